"""Synthetic low-light nuclei for denoising: a noisy camera frame and the same scene, clean.

The scene is the one `render_cells` draws (nuclei, haze, uneven illumination), imaged at a
few tens of photo-electrons per pixel at most, where shot noise dominates, as in fast or
gentle live imaging. Camera settings are fixed for the whole data set, like one microscope:
offset 100 ADU, 8 ADU per electron, 4 ADU read noise. So a fixed intensity range (100..600
ADU) maps every image, noisy or clean, the same way, and results are in camera units.
"""

from __future__ import annotations

import numpy as np

from img2img.data.synthetic.cells import cell_scene

OFFSET = 100.0  # ADU
GAIN = 8.0  # ADU per photo-electron
READ_NOISE = 4.0  # ADU, Gaussian
PEAK_ELECTRONS = (8.0, 25.0)  # electrons at the brightest nucleus' centre, per image
CLEAN_MAX = 600.0  # ADU: above nearly every clean pixel (bright nucleoli and overlaps may clip)


def render_denoising(rng: np.random.Generator, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean) uint16 H x W: offset + gain * Poisson(e) + read noise, and offset + gain * e."""
    signal, _, brightest = cell_scene(rng, size)
    electrons = np.maximum(signal, 0) * (rng.uniform(*PEAK_ELECTRONS) / brightest)
    noisy = OFFSET + GAIN * rng.poisson(electrons) + rng.normal(0.0, READ_NOISE, electrons.shape)
    clean = OFFSET + GAIN * electrons
    return _uint16(noisy), _uint16(clean)


def _uint16(adu: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(adu), 0, 65535).astype(np.uint16)
