"""Synthetic cytoskeleton: thin fluorescent fibres (actin, microtubules), a noisy camera frame and
the same scene, clean.

Fibres are what classical hole filling cannot do: a biharmonic or Telea fill is smooth, so a
fibre crossing a hole fades into a blur, while the eye (and a trained network) continues it. So
the inpainting experiment is run on these as well as on nuclei, where a smooth fill is already
close to the best guess. Fibres are slowly bending random walks, blurred by a Gaussian PSF, over
a faint cytoplasm haze; where they cross, their light adds. The camera is the one `denoise`
uses (offset 100 ADU, 8 ADU per photo-electron, 4 ADU read noise), so the pairs serve denoising too.
"""

from __future__ import annotations

import cv2
import numpy as np

from img2img.data.synthetic.denoise import GAIN, OFFSET, READ_NOISE, _uint16
from img2img.data.synthetic.common import pick_size
from img2img.data.synthetic.noise import smooth_field

FIBRES_PER_MEGAPIXEL = (230, 600)  # 15-40 in a 256 px image
STEPS = (150, 500)  # fibre length in 1 px steps
PSF_SIGMA = 1.2  # px
PEAK_ELECTRONS = 40.0  # one fibre's brightest line, at full brightness


def render_filaments(rng: np.random.Generator, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean) uint16 H x W: offset + gain * Poisson(e) + read noise, and offset + gain * e."""
    h, w = pick_size(rng, size)
    density = np.zeros((h, w), np.float32)
    for _ in range(int(rng.uniform(*FIBRES_PER_MEGAPIXEL) * h * w / 1e6) + 1):
        _add_fibre(rng, density)
    # A unit line blurred by the PSF peaks at 1 / (sqrt(2 pi) sigma); scale that peak to 1.
    signal = cv2.GaussianBlur(density, (0, 0), PSF_SIGMA) * (np.sqrt(2 * np.pi) * PSF_SIGMA)
    haze = 0.05 * np.maximum(smooth_field(rng, (h, w), 40.0) + 2.0, 0)
    electrons = PEAK_ELECTRONS * (signal + haze)
    noisy = OFFSET + GAIN * rng.poisson(electrons) + rng.normal(0.0, READ_NOISE, electrons.shape)
    return _uint16(noisy), _uint16(OFFSET + GAIN * electrons)


def _add_fibre(rng: np.random.Generator, density: np.ndarray) -> None:
    """One slowly bending random walk from a random point, its brightness added pixel by pixel."""
    h, w = density.shape
    y, x = rng.uniform(-20, h + 20), rng.uniform(-20, w + 20)
    n = int(rng.integers(*STEPS))
    turn = rng.normal(0, 0.006)  # a steady curvature, plus a little wander per step
    angles = rng.uniform(0, 2 * np.pi) + np.cumsum(turn + rng.normal(0, 0.01, n))
    ys, xs = y + np.cumsum(np.sin(angles)), x + np.cumsum(np.cos(angles))
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    np.add.at(density, (ys[inside].astype(int), xs[inside].astype(int)), rng.uniform(0.3, 1.0))
