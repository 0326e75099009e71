"""RGB <-> YUV (BT.601) on normalized images, in numpy and torch.

YUV rather than Lab because it is linear: on images scaled to [-1, 1] with one range for all
three channels (dtype or fixed normalization), Y of the scaled RGB is exactly the scaled
luminance, so a gray input and the colour output share one scale, and keeping the input as Y
keeps the measured intensities. The chroma U, V is what a colorization model predicts.
"""

from __future__ import annotations

import numpy as np
import torch

_Y = np.array([0.299, 0.587, 0.114])
# U = 0.492 (B - Y), V = 0.877 (R - Y): rows of exactly zero sum, so gray has no chroma at all.
RGB_TO_YUV = np.stack([_Y, 0.492 * (np.array([0.0, 0.0, 1.0]) - _Y), 0.877 * (np.array([1.0, 0.0, 0.0]) - _Y)])
RGB_TO_YUV = RGB_TO_YUV.astype(np.float32)
YUV_TO_RGB = np.linalg.inv(RGB_TO_YUV).astype(np.float32)


def rgb_to_yuv(rgb: np.ndarray) -> np.ndarray:
    """(3, H, W) -> (3, H, W): Y, U, V."""
    return np.einsum("ij,jhw->ihw", RGB_TO_YUV, rgb.astype(np.float32))


def yuv_to_rgb_torch(y: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance and (B, 2, H, W) chroma -> (B, 3, H, W) RGB."""
    m = torch.as_tensor(YUV_TO_RGB, dtype=y.dtype, device=y.device)
    return torch.einsum("ij,bjhw->bihw", m, torch.cat([y, uv], 1))


def yuv_to_rgb(yuv: np.ndarray) -> np.ndarray:
    return np.einsum("ij,jhw->ihw", YUV_TO_RGB, yuv.astype(np.float32))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of a (3, H, W) image in 0..255 units: 0 for gray,
    about 30-60 for ordinary photos."""
    r, g, b = rgb.astype(np.float64)
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
