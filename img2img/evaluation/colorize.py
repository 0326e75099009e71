"""Score a colorization model against what one gets without it: the gray image itself, and the
gray image with the average colour of the other held-out images added (gray + mean chroma, a
leave-one-out mean, so no image sees its own colour). PSNR and SSIM in RGB over the
normalization range, plain and scale-invariant (after a per-channel linear fit to the target,
as for every translation model), and the Hasler-Suesstrunk colourfulness (0 for gray; the targets' own
value is given for comparison: a model can score PSNR by staying drab, colourfulness tells).

Gray inputs are the luminance of colour images (--input only), or real gray images paired with
colour targets (--target). Virtual-staining models (keep_luminance false) are scored as
translation models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.progress import track

from img2img.data.color import colorfulness, rgb_to_yuv, yuv_to_rgb
from img2img.data.examples import check_colour_target
from img2img.data.loading import read_image_pair, read_input_2d
from img2img.data.pairing import pair_files
from img2img.errors import UserError
from img2img.evaluation.translation import (
    TranslationEvaluation, TranslationExample, describe_range, evaluate_translation, image_quality, target_range,
)
from img2img.inference.predictor import Predictor
from img2img.io.images import list_images
from img2img.io.normalization import cast_clipped


def evaluate_colorize(
    predictor: Predictor, input_dir: Path, target_dir: Path | None = None, pattern: str = "*",
    n_examples: int = 3, progress: bool = True,
) -> TranslationEvaluation:
    if not predictor.config.model.keep_luminance:
        if target_dir is None:
            raise UserError("--target: a virtual-staining model (keep_luminance false) is scored on pairs; "
                            "give --input and --target folders")
        return evaluate_translation(predictor, input_dir, target_dir, pattern=pattern, progress=progress)
    examples = list(_examples(Path(input_dir), target_dir, pattern))
    norm = predictor.config.target_norm
    chroma = np.array([rgb_to_yuv(truth.astype(np.float32))[1:].mean(axis=(1, 2)) for _, _, truth in examples])
    result = TranslationEvaluation(["model", "gray", "mean_chroma"], describe_range(norm),
                                   metrics=("psnr", "ssim", "psnr_si", "ssim_si", "colorfulness"))
    target_colour = []
    for i, (name, gray, truth) in enumerate(track(examples, description="evaluating", disable=not progress)):
        lo, hi = target_range(norm, truth)
        y = gray.astype(np.float32)
        others = np.delete(chroma, i, axis=0).mean(axis=0) if len(examples) > 1 else np.zeros(2, np.float32)
        outputs = {
            "model": predictor.predict(gray, "CYX").astype(np.float32),
            "gray": np.repeat(y, 3, axis=0),
            "mean_chroma": yuv_to_rgb(np.concatenate([y, np.broadcast_to(others[:, None, None], (2, *y.shape[1:]))])),
        }
        row = {"name": name}
        for method, out in outputs.items():
            row[method] = image_quality(out, truth, lo, hi) | {"colorfulness": _colourfulness(out, lo, hi)}
        target_colour.append(_colourfulness(truth, lo, hi))
        result.per_image.append(row)
        if len(result.examples) < n_examples:
            result.examples.append(TranslationExample(name, outputs, truth.astype(np.float32)))
    result.notes = [f"Colourfulness (Hasler & Suesstrunk, 0..255 units) of the true colour images: "
                    f"{np.mean(target_colour):.1f}. Gray inputs: "
                    + ("the given gray images." if target_dir else "the luminance (BT.601 Y) of the colour images.")]
    return result


def _examples(input_dir: Path, target_dir: Path | None, pattern: str):
    """(name, gray (1, H, W) raw, colour (3, H, W) raw) per image."""
    if target_dir is not None:
        out = []
        for gray_path, colour_path in pair_files(input_dir, Path(target_dir), pattern):
            (gray, _), (colour, _) = read_image_pair(gray_path, colour_path)
            check_colour_target(colour.shape[0], colour_path)
            out.append((gray_path.stem, gray[:1], colour))
        return out
    files = list_images(input_dir, pattern)
    if not files:
        raise UserError(f"{input_dir}: no images matching '{pattern}'; give a folder of colour images")
    out = []
    for path in files:
        colour, dtype = read_input_2d(path)
        check_colour_target(colour.shape[0], path)
        out.append((path.stem, cast_clipped(rgb_to_yuv(colour)[:1], dtype), colour))  # as a gray camera saves it
    return out


def _colourfulness(rgb: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    unit = (rgb.astype(np.float32) - lo[:, None, None]) / np.maximum(hi - lo, 1e-6)[:, None, None]
    return colorfulness(np.clip(unit, 0, 1) * 255)
