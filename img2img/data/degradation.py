"""High-resolution image -> the low-resolution input a super-resolution model learns from.

Blur (the microscope's PSF), then downscaling, then noise (the camera's), as light meets a
coarser sensor. Downscaling uses torch: antialiased bicubic matches MATLAB/PIL `imresize`,
the usual SR benchmark degradation (OpenCV's cubic resize does not antialias and aliases at x4);
area is pixel binning. Works on normalized (C, H, W) float32 arrays: all three steps are
linear in intensity, except that noise std is given as a share of the normalized range.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from img2img.config.schema import DegradationConfig


def downscale(image: np.ndarray, scale: int, mode: str = "bicubic") -> np.ndarray:
    """(C, H, W) with H, W multiples of `scale` -> (C, H/scale, W/scale) float32."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
    size = (image.shape[-2] // scale, image.shape[-1] // scale)
    if mode == "area":
        out = F.interpolate(x, size=size, mode="area")
    else:
        out = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
    return out[0].numpy()


def upscale_bicubic(image: np.ndarray, scale: int) -> np.ndarray:
    """The classical baseline: (C, h, w) -> (C, h*scale, w*scale) bicubic, float32."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)[0].numpy()


def degrade(hr: np.ndarray, scale: int, config: DegradationConfig, rng: np.random.Generator) -> np.ndarray:
    """Normalized (C, H, W) high-resolution crop -> its (C, H/scale, W/scale) low-resolution input.

    Noise std is `config.noise_std` of the [-1, 1] span (so 0.01 is 1% of the intensity range).
    """
    x = hr.astype(np.float32)
    if config.blur_sigma > 0:
        x = np.stack([gaussian_filter(c, config.blur_sigma, mode="reflect") for c in x])
    x = downscale(x, scale, config.downscale)
    if config.noise_std > 0:
        x = x + rng.normal(0.0, 2.0 * config.noise_std, x.shape).astype(np.float32)
    return x


def crop_to_scale(image: np.ndarray, scale: int) -> np.ndarray:
    """Drop the last rows/columns so both sides divide by `scale` (whole low-resolution pixels)."""
    h, w = image.shape[-2] // scale * scale, image.shape[-1] // scale * scale
    return image[..., :h, :w]
