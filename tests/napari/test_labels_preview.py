"""The Train widget's segmentation preview shows decoded objects, not the network's maps (no window)."""

import numpy as np

from img2img.config.schema import DecodingConfig
from img2img.segmentation.encoding import labels_to_target
from img2img_napari.labels_preview import OUTLINE, labels_grid, overlay


def disks(centres, radius=9, shape=(64, 80)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.uint16)
    for k, (y, x) in enumerate(centres, start=1):
        labels[(yy - y) ** 2 + (xx - x) ** 2 <= radius**2] = k
    return labels


def test_maps_become_one_outlined_object_per_nucleus():
    truth = disks([(20, 20), (20, 55), (45, 38)])
    maps = labels_to_target(truth) * 2 - 1  # what validation collects: maps in [-1, 1]
    image = np.where(truth > 0, 0.5, -0.5)[None].astype(np.float32)
    grid, (found,) = labels_grid([(image, maps, maps)], DecodingConfig())
    assert found.shape == truth.shape and found.max() == 3
    h, w = truth.shape
    assert grid.shape == (h, 3 * w + 2 * 4, 3) and grid.dtype == np.uint8  # input | found | true, 4 px gaps
    found_panel = grid[:, w + 4 : 2 * w + 4]
    assert tuple(found_panel[20, 20 - 9]) == tuple(int(c * 255) for c in OUTLINE)  # the left edge of object 1
    assert len({tuple(found_panel[y, x]) for y, x in ((20, 20), (20, 55), (45, 38))}) == 3  # three tints


def test_no_objects_leaves_the_image_untouched():
    gray = np.linspace(0, 1, 30 * 40).reshape(30, 40)
    shown = overlay(gray, np.zeros((30, 40), np.uint16))
    assert shown.shape == (3, 30, 40) and np.allclose(shown, gray * 2 - 1)
