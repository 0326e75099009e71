"""A fixed normalization range (a camera's, e.g. 100..600 ADU for `img2img synth denoise`) must
hold the images a model learns to make. Targets above it are clipped to the top of the range, so a
range taken from another camera or data set silently teaches the network to flatten the brightest
structures (`img2img synth filaments` reaches ~1030 ADU: with 100..600 its brightest 0.1% of pixels
were cut). Checked once on the training targets, with a one-line error that says what to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.errors import UserError
from img2img.io.normalization import Normalization

# Share of target pixels allowed at or above the top of a fixed range: single hot pixels and a
# noisy image's rare highest values (Noise2Void learns from noisy images) stay below it.
CLIPPED_SHARE = 1e-4


def check_fixed_range(norm: Normalization, targets: list[np.ndarray], folder: Path | str) -> None:
    """Raise a UserError when more than `CLIPPED_SHARE` of the pixels of `targets` (normalized to
    [-1, 1] by `norm`, clipped or not) lie at or above the top of a fixed range."""
    if norm.mode != "fixed" or not targets:
        return
    total = sum(t.size for t in targets)
    above = sum(int(np.count_nonzero(t >= 1.0)) for t in targets)
    if above > CLIPPED_SHARE * total:
        peak = max(float(t.max()) for t in targets)
        brightest = f"; the brightest reach {norm.min_value + (peak + 1) / 2 * (norm.max_value - norm.min_value):.0f}" \
            if peak > 1.0 else ""
        raise UserError(
            f"{folder}: normalization.max_value {norm.max_value:g} cuts {100 * above / total:.2f}% of the training "
            f"targets' pixels (at or above it{brightest}); raise max_value to the camera's brightest level "
            "or use normalization mode percentile")
