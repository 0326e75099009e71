"""A classical larva detector: dark blobs inside the arena, one centroid each.

No training, so it cannot be fooled by what it learned: tests use it to check that a
translation leaves the larvae where they were (the centroids found before and after must
agree), whatever the translation did to the background. A black top-hat (closing minus image)
first removes uneven illumination and vignetting, which a global threshold would take for larvae.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu


def dark_blob_centres(image: np.ndarray, arena: tuple[float, float, float], margin: float = 4.0,
                      min_area: int = 6, width: int = 9) -> np.ndarray:
    """(N, 2) x, y centroids of the dark connected regions inside the arena circle
    (centre x, y and radius, px) shrunk by `margin` px: black top-hat with a `width` px square
    (wider than a larva), then an Otsu threshold computed inside the arena."""
    grey = ndimage.gaussian_filter(np.asarray(image, np.float32), 1.0)
    darkness = ndimage.grey_closing(grey, size=(width, width)) - grey
    cx, cy, r = arena
    y, x = np.mgrid[: grey.shape[0], : grey.shape[1]]
    inside = np.hypot(x - cx, y - cy) < r - margin
    if darkness[inside].max() == darkness[inside].min():
        return np.zeros((0, 2))
    dark = (darkness > threshold_otsu(darkness[inside])) & inside
    labels, n = ndimage.label(dark)
    if n == 0:
        return np.zeros((0, 2))
    index = np.arange(1, n + 1)
    areas = ndimage.sum(dark, labels, index)
    centres = np.array(ndimage.center_of_mass(dark, labels, index))[areas >= min_area]
    return centres.reshape(-1, 2)[:, ::-1]  # row, col -> x, y
