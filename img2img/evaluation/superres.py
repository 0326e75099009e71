"""Score a super-resolution model against bicubic upscaling, the method a scientist would use
otherwise, on held-out images: PSNR and SSIM (torchmetrics) in target units over the
normalization range, with a border of `scale` pixels cropped (the usual SR convention: both
methods guess beyond the image edge there).

Inputs are either real low-resolution images paired with high-resolution targets, or made from
high-resolution images by the checkpoint's own degradation, seeded per image so reruns match.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.progress import track

from img2img.data.degradation import crop_to_scale, degrade, upscale_bicubic
from img2img.data.loading import read_input_2d
from img2img.data.pairing import pair_files
from img2img.errors import UserError
from img2img.evaluation.translation import (
    TranslationEvaluation, TranslationExample, describe_range, image_quality, target_range,
)
from img2img.inference.predictor import Predictor
from img2img.io.images import list_images
from img2img.io.normalization import unscale_from_unit


def evaluate_superres(
    predictor: Predictor, input_dir: Path, target_dir: Path | None = None, pattern: str = "*",
    n_examples: int = 3, progress: bool = True, seed: int = 0,
) -> TranslationEvaluation:
    scale = predictor.scale
    config = predictor.config
    norm = config.target_norm
    result = TranslationEvaluation(["model", "bicubic"], describe_range(norm), notes=[
        f"Scale x{scale}; a border of {scale} px is cropped before scoring.",
        "Inputs: " + ("the low-resolution images given." if target_dir else
                      f"made from the high-resolution images by the checkpoint's degradation ({_describe(config)})."),
    ])
    for name, lr, hr in track(list(_examples(predictor, input_dir, target_dir, pattern, seed)),
                              description="evaluating", disable=not progress):
        lo, hi = target_range(norm, hr)
        model = predictor.predict(lr, "CYX").reshape(hr.shape).astype(np.float32)
        outputs = {"model": model, "bicubic": upscale_bicubic(lr.astype(np.float32), scale)}
        truth = hr.astype(np.float32)
        row = {"name": name}
        row.update({m: image_quality(_inner(out, scale), _inner(truth, scale), lo, hi) for m, out in outputs.items()})
        result.per_image.append(row)
        if len(result.examples) < n_examples:
            result.examples.append(TranslationExample(name, outputs, truth))
    return result


def _examples(predictor: Predictor, input_dir: Path, target_dir: Path | None, pattern: str, seed: int):
    """(name, low-resolution raw (C, h, w), high-resolution raw (C, h*s, w*s)) per image."""
    scale = predictor.scale
    if target_dir is not None:
        for lr_path, hr_path in pair_files(Path(input_dir), Path(target_dir), pattern):
            (lr, _), (hr, _) = read_input_2d(lr_path), read_input_2d(hr_path)
            if hr.shape[1:] != (lr.shape[1] * scale, lr.shape[2] * scale):
                raise UserError(f"{hr_path}: is {hr.shape[1]}x{hr.shape[2]}; for x{scale} of {lr_path.name} "
                                f"({lr.shape[1]}x{lr.shape[2]}) it must be {lr.shape[1] * scale}x{lr.shape[2] * scale}")
            yield lr_path.stem, lr, hr
        return
    files = list_images(Path(input_dir), pattern)
    if not files:
        raise UserError(f"{input_dir}: no images matching '{pattern}'; give a folder of high-resolution images")
    norm, degradation = predictor.config.target_norm, predictor.config.model.degradation
    for index, path in enumerate(files):
        hr, dtype = read_input_2d(path)
        hr = crop_to_scale(hr, scale)
        if min(hr.shape[1:]) < scale:
            raise UserError(f"{path}: {hr.shape[1]}x{hr.shape[2]} is too small to downscale x{scale}")
        lo, hi = norm.range_of(hr)
        lr = degrade(norm.apply(hr, lo, hi), scale, degradation, np.random.default_rng([seed, index]))
        yield path.stem, unscale_from_unit(lr, lo, hi, dtype), hr  # saved as the camera would: its pixel type


def _inner(image: np.ndarray, border: int) -> np.ndarray:
    return image[:, border:-border, border:-border] if min(image.shape[1:]) > 2 * border else image


def _describe(config) -> str:
    d = config.model.degradation
    parts = [f"{d.downscale} downscale"]
    if d.blur_sigma:
        parts.insert(0, f"blur sigma {d.blur_sigma:g} px")
    if d.noise_std:
        parts.append(f"noise {100 * d.noise_std:g}% of the range")
    return ", ".join(parts)
