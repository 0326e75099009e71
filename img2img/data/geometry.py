"""Random crops, flips and 90-degree turns in numpy, the same for every array of an example.

Used where input and target differ in size (super-resolution pairs: the low-resolution crop
sits at 1/scale of the high-resolution one) or where the input is made after the crop, so
albumentations' same-size image/mask pairing does not fit.
"""

from __future__ import annotations

import numpy as np


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A size x size crop of (C, H, W); smaller images are mirror-padded first."""
    image = pad_at_least(image, size)
    top = int(rng.integers(0, image.shape[1] - size + 1))
    left = int(rng.integers(0, image.shape[2] - size + 1))
    return image[:, top : top + size, left : left + size]


def pad_at_least(image: np.ndarray, size: int) -> np.ndarray:
    ph, pw = max(0, size - image.shape[1]), max(0, size - image.shape[2])
    if not (ph or pw):
        return image
    mode = "symmetric" if min(image.shape[1:]) > 1 else "edge"
    return np.pad(image, [(0, 0), (0, ph), (0, pw)], mode=mode)


def random_orientation(rng: np.random.Generator, flip: bool = True, rotate90: bool = True) -> tuple[bool, bool, int]:
    """(flip up-down, flip left-right, quarter turns), drawn once and applied to every array."""
    return (bool(flip and rng.random() < 0.5), bool(flip and rng.random() < 0.5),
            int(rng.integers(0, 4)) if rotate90 else 0)


def orient(image: np.ndarray, orientation: tuple[bool, bool, int]) -> np.ndarray:
    up_down, left_right, turns = orientation
    if up_down:
        image = image[:, ::-1]
    if left_right:
        image = image[:, :, ::-1]
    if turns:
        image = np.rot90(image, turns, axes=(1, 2))
    return np.ascontiguousarray(image, dtype=np.float32)


def centre_crop(image: np.ndarray, max_size: int, multiple: int = 1) -> np.ndarray:
    """At most max_size per side, centred, trimmed to a multiple of `multiple` where the image allows."""
    out = []
    for n in image.shape[1:]:
        keep = min(n, max_size)
        keep = max(keep // multiple * multiple, min(n, multiple))
        out.append(slice((n - keep) // 2, (n - keep) // 2 + keep))
    return image[:, out[0], out[1]]
