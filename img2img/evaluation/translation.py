"""Score an image-translation model (denoising, virtual staining) against classical baselines
and the raw input on the same held-out pairs: PSNR and SSIM (torchmetrics), plain and
scale-invariant (each output first mapped linearly onto its target, as CSBDeep and CAREamics
score), so a method gains nothing by re-scaling brightness.

The model's [0, 1] output is mapped to the target's intensity scale here, with the target
normalization stored in the checkpoint; metrics then compare every method in target units
over the normalization range (values outside it clipped), i.e. with that range as data range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.progress import track
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from img2img.data.loading import read_image_pair
from img2img.data.pairing import pair_files
from img2img.errors import UserError
from img2img.evaluation.denoising_baselines import DENOISING_BASELINES
from img2img.inference.predictor import Predictor
from img2img.io.normalization import Normalization

# Plain and scale-invariant (after a per-image linear fit to the target: `fit_to_target`).
TRANSLATION_METRICS = ("psnr", "ssim", "psnr_si", "ssim_si")


@dataclass
class TranslationExample:
    name: str
    outputs: dict[str, np.ndarray]  # method -> (C, H, W) in target units; "input" is the raw input
    truth: np.ndarray


@dataclass
class TranslationEvaluation:
    methods: list[str]  # "model", then "input" and the baselines where they apply
    data_range: str
    per_image: list[dict] = field(default_factory=list)
    examples: list[TranslationExample] = field(default_factory=list)
    metrics: tuple[str, ...] = TRANSLATION_METRICS  # restoration tasks add their own (hole L1, colorfulness)
    notes: list[str] = field(default_factory=list)  # how the scores were taken (border crop, masks)

    @property
    def summary(self) -> dict:
        return {
            m: {k: float(np.mean([row[m][k] for row in self.per_image])) for k in self.metrics}
            | {"n_images": len(self.per_image)}
            for m in self.methods
        }

    def to_json(self) -> dict:
        return {"task": "translation", "data_range": self.data_range, "methods": self.methods,
                "metrics": list(self.metrics), "notes": self.notes, "summary": self.summary, "per_image": self.per_image}


def evaluate_translation(
    predictor: Predictor, input_dir: Path, target_dir: Path, baseline: str | None = None,
    pattern: str = "*", n_examples: int = 3, progress: bool = True,
) -> TranslationEvaluation:
    if baseline is not None and baseline not in DENOISING_BASELINES:
        raise UserError(f"unknown baseline '{baseline}' for translation; choose from {sorted(DENOISING_BASELINES)}")
    config = predictor.config
    norm = config.target_norm
    pairs = pair_files(Path(input_dir), Path(target_dir), pattern)
    result: TranslationEvaluation | None = None
    for image_path, target_path in track(pairs, description="evaluating", disable=not progress):
        (raw, _), (truth, _) = read_image_pair(image_path, target_path)
        lo, hi = target_range(norm, truth)
        outputs = {"model": lo[:, None, None] + predictor.predict_probabilities(raw, "CYX") * (hi - lo)[:, None, None]}
        if raw.shape[0] == truth.shape[0]:  # same channels: the input itself and classical filters compete
            outputs["input"] = raw.astype(np.float32)
            for name in [baseline] if baseline else DENOISING_BASELINES:
                outputs[name] = DENOISING_BASELINES[name](raw)
        if result is None:
            result = TranslationEvaluation(list(outputs), describe_range(norm))
        row = {"name": image_path.stem}
        row.update({m: image_quality(out, truth, lo, hi) for m, out in outputs.items()})
        result.per_image.append(row)
        if len(result.examples) < n_examples:
            result.examples.append(TranslationExample(image_path.stem, outputs, truth.astype(np.float32)))
    return result


def target_range(norm: Normalization, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (lo, hi) of target units that the model's 0..1 spans. Fixed and dtype ranges
    come from the checkpoint; percentile ranges are taken from the true target (an oracle scale)."""
    lo, hi = norm.range_of(truth)
    return np.asarray(lo, np.float32), np.asarray(hi, np.float32)


def describe_range(norm: Normalization) -> str:
    if norm.mode == "fixed":
        return f"{norm.min_value:g}..{norm.max_value:g} (fixed target normalization)"
    if norm.mode == "dtype":
        return "the full range of the target pixel type"
    return f"each target's {norm.low:g}..{norm.high:g} percentiles (the model output is scaled to them too)"


def image_quality(output: np.ndarray, truth: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, float]:
    """PSNR (dB) and SSIM over lo..hi per channel (both images mapped to [0, 1] and clipped, data
    range 1), plain and scale-invariant (`psnr_si`, `ssim_si`: after `fit_to_target`)."""
    plain = _quality(output, truth, lo, hi)
    fitted = _quality(fit_to_target(output, truth), truth, lo, hi)
    return plain | {"psnr_si": fitted["psnr"], "ssim_si": fitted["ssim"]}


def fit_to_target(output: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """`output` (C, H, W) after the per-channel linear map a * output + b closest to `truth` in
    least squares: the scale-invariant scoring of CSBDeep and CAREamics. Real noisy/clean pairs
    often differ in brightness (exposure, bleaching, another camera gain); a plain PSNR then rewards
    a method for re-scaling intensities, not for removing noise, and after this fit it does not."""
    out = output.astype(np.float64).reshape(output.shape[0], -1)
    true = truth.astype(np.float64).reshape(truth.shape[0], -1)
    centred = out - out.mean(axis=1, keepdims=True)
    variance = (centred**2).mean(axis=1)
    slope = np.where(variance > 0, (centred * (true - true.mean(axis=1, keepdims=True))).mean(axis=1)
                     / np.maximum(variance, 1e-12), 0.0)
    offset = true.mean(axis=1) - slope * out.mean(axis=1)
    return (slope[:, None] * out + offset[:, None]).reshape(output.shape).astype(np.float32)


def _quality(output: np.ndarray, truth: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, float]:
    def unit(x: np.ndarray) -> torch.Tensor:
        x = (x.astype(np.float32) - lo[:, None, None]) / np.maximum(hi - lo, 1e-6)[:, None, None]
        return torch.from_numpy(np.clip(x, 0.0, 1.0))[None]

    pred, true = unit(output), unit(truth)
    return {
        "psnr": float(peak_signal_noise_ratio(pred, true, data_range=1.0)),
        "ssim": float(structural_similarity_index_measure(pred, true, data_range=1.0)),
    }
