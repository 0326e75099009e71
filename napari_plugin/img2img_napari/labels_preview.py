"""The Train widget's preview for segmentation models: the objects the model finds, not its maps.

A biologist judges a segmenter by its objects (are touching nuclei split? is anything missed?),
which the raw foreground/distance maps hide. Each validation sample (input, output maps,
target maps, all in [-1, 1]) is decoded the way inference decodes it (`decode_rescaled` with
the run's decoding settings) and drawn as coloured instances with outlines over the input:
input | objects found | true objects.
"""

from __future__ import annotations

import numpy as np
from skimage.color import label2rgb
from skimage.segmentation import mark_boundaries

from img2img.models.samples import sample_grid
from img2img.segmentation.encoding import decode_rescaled

FILL = 0.35  # how strongly an object's colour covers the image under it
OUTLINE = (1.0, 1.0, 0.0)  # yellow outlines show where touching objects were split


def decode_maps(maps: np.ndarray, decoding) -> np.ndarray:
    """(C, H, W) maps in [-1, 1] -> (H, W) instance labels; validation images are already at the
    model's object size, so no rescaling."""
    return decode_rescaled((np.asarray(maps, np.float32) + 1) / 2, decoding)


def overlay(gray: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(3, H, W) in [-1, 1]: `gray` (H, W) in [0, 1] with each object tinted and outlined."""
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    inside = labels > 0
    if inside.any():
        colours = label2rgb(labels, bg_label=0)
        rgb[inside] = (1 - FILL) * rgb[inside] + FILL * colours[inside]
        rgb = mark_boundaries(rgb, labels, color=OUTLINE, mode="inner")
    return np.clip(rgb, 0, 1).transpose(2, 0, 1) * 2 - 1


def labels_grid(samples: list[tuple[np.ndarray, ...]], decoding) -> tuple[np.ndarray, list[np.ndarray]]:
    """(H, W, 3) uint8 grid with one row per sample (input | found | true), and the found labels."""
    rows, found = [], []
    for x, output, target in samples:
        gray = (np.clip(np.mean(x, axis=0), -1, 1) + 1) / 2
        labels = decode_maps(output, decoding)
        found.append(labels)
        rows.append((x, overlay(gray, labels), overlay(gray, decode_maps(target, decoding))))
    return sample_grid(rows), found
