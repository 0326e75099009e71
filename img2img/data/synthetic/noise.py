"""Smooth random fields shared by the synthetic generators.

Real images carry structure at many scales (illumination, clouds, chromatin, waves).
Blurring white noise on a coarse grid and upsampling it gives such fields at any size
for a few milliseconds, instead of an FFT or a Gaussian blur with a huge kernel over
the whole frame.
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Zero-mean, unit-std float32 field whose blobs are about `scale` pixels across."""
    h, w = shape
    step = max(1.0, scale / 3.0)  # coarse grid: about 3 cells per blob
    gh, gw = int(np.ceil(h / step)) + 4, int(np.ceil(w / step)) + 4
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    grid = cv2.GaussianBlur(grid, (0, 0), sigmaX=scale / (2.0 * step), borderType=cv2.BORDER_REFLECT)
    if step > 1.0:
        big = cv2.resize(grid, (int(gw * step), int(gh * step)), interpolation=cv2.INTER_CUBIC)
        oy, ox = (int(rng.integers(0, int(2 * step) + 1)) for _ in range(2))
        field = big[oy : oy + h, ox : ox + w]
    else:
        field = grid[2 : 2 + h, 2 : 2 + w]
    field = field - field.mean()
    return field / (field.std() + 1e-6)


def fractal_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    scales: tuple[float, ...],
    falloff: float = 0.6,
) -> np.ndarray:
    """Sum of smooth fields from the largest scale down, each octave `falloff` times weaker.

    Normalised to zero mean and unit std, so callers choose the amplitude.
    """
    total = np.zeros(shape, np.float32)
    for i, scale in enumerate(sorted(scales, reverse=True)):
        total += (falloff**i) * smooth_field(rng, shape, scale)
    total -= total.mean()
    return total / (total.std() + 1e-6)


def smooth_curve(rng: np.random.Generator, length: int, scale: float) -> np.ndarray:
    """A 1-D zero-mean, unit-std random curve with wiggles about `scale` samples long."""
    return smooth_field(rng, (1, max(int(length), 1)), scale)[0]
