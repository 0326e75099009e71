"""Pad images to the size multiple a network needs, and crop results back."""

from __future__ import annotations

import numpy as np


def pad_to_multiple(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Mirror-pad the last two axes up to multiples of `multiple` (at least one multiple).

    Mirroring keeps texture statistics at the border, unlike zeros; numpy reflects repeatedly,
    so images much smaller than the multiple work too. Returns the padded array and the
    original (height, width) for `crop_to`.
    """
    h, w = x.shape[-2:]
    ph = max(multiple, -(-h // multiple) * multiple) - h
    pw = max(multiple, -(-w // multiple) * multiple) - w
    if ph == 0 and pw == 0:
        return x, (h, w)
    pad = [(0, 0)] * (x.ndim - 2) + [(ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)]
    return np.pad(x, pad, mode="reflect" if min(h, w) > 1 else "edge"), (h, w)


def crop_to(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Undo `pad_to_multiple` (the padding was split evenly around the image)."""
    h, w = size
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top : top + h, left : left + w]
