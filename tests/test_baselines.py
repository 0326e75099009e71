import numpy as np
import pytest
from skimage.draw import disk, ellipse

from img2img.errors import UserError
from img2img.evaluation.baselines import BASELINES, color_kmeans, default_baseline, has_dark_background, otsu_watershed
from img2img.segmentation.metrics import segmentation_scores


def as_dtype(unit: np.ndarray, dtype) -> np.ndarray:
    """An image in [0, 1] stored as `dtype` over its full range (floats kept as they are)."""
    unit = np.clip(unit, 0, 1)
    if np.dtype(dtype).kind == "f":
        return unit.astype(dtype)
    return np.round(unit * np.iinfo(dtype).max).astype(dtype)


def nuclei(seed=0):
    """Bright discs on a dark noisy background: two touching ones and three apart."""
    labels = np.zeros((128, 128), dtype=np.uint16)
    centres = [(40, 30, 12), (40, 53, 12), (95, 30, 9), (95, 80, 15), (30, 100, 7)]
    for label, (y, x, r) in enumerate(centres, start=1):
        rr, cc = disk((y, x), r, shape=labels.shape)
        free = labels[rr, cc] == 0
        labels[rr[free], cc[free]] = label
    rng = np.random.default_rng(seed)
    return 0.2 + 0.5 * (labels > 0) + rng.normal(0, 0.05, labels.shape), labels


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_otsu_watershed_finds_and_splits_nuclei(dtype):
    image, labels = nuclei()
    found = otsu_watershed(as_dtype(image, dtype))
    assert found.dtype == np.uint16
    scores = segmentation_scores(found, labels)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (5, 0, 0), scores
    assert scores["mean_matched_iou"] > 0.85


def test_otsu_watershed_on_colour_dark_objects_and_blank_images():
    image, labels = nuclei(1)
    rgb = as_dtype(np.stack([image] * 3), np.uint8)  # channels first
    assert segmentation_scores(otsu_watershed(rgb), labels)["f1"] == 1.0
    two_channels = np.stack([image, np.full_like(image, 0.3)], axis=-1).astype(np.float32)
    assert segmentation_scores(otsu_watershed(two_channels), labels)["f1"] == 1.0
    dark = otsu_watershed(as_dtype(1 - image, np.uint16), bright_objects=False)
    assert segmentation_scores(dark, labels)["f1"] == 1.0
    assert not otsu_watershed(np.full((32, 32), 7, dtype=np.uint16)).any()


def test_otsu_watershed_finds_dark_objects_on_light_by_itself():
    image, labels = nuclei(2)
    stained = np.clip(1 - image, 0, 1)[..., None] * np.array([0.95, 0.6, 0.85])  # purple nuclei on pink, H&E-like
    rgb = as_dtype(stained, np.uint8)
    assert not has_dark_background(rgb.mean(axis=-1)) and has_dark_background(image)
    assert segmentation_scores(otsu_watershed(rgb, bright_objects="auto"), labels)["f1"] == 1.0
    assert segmentation_scores(otsu_watershed(rgb, bright_objects=False), labels)["f1"] == 1.0
    assert segmentation_scores(otsu_watershed(rgb), labels)["f1"] == 0.0  # bright objects: the background
    assert segmentation_scores(otsu_watershed(as_dtype(image, np.uint16), bright_objects="auto"), labels)["f1"] == 1.0
    with pytest.raises(UserError, match="bright_objects 'dark'"):
        otsu_watershed(rgb, bright_objects="dark")


def sea(water, dolphin=(0.45, 0.45, 0.47), dtype=np.uint8):
    """Sky above, `water` below, two grey dolphins (ellipses) and a few glints on the waves."""
    labels = np.zeros((120, 160), dtype=np.uint16)
    for label, (y, x) in enumerate([(70, 50), (90, 115)], start=1):
        rr, cc = ellipse(y, x, 10, 25, shape=labels.shape, rotation=0.3)
        labels[rr, cc] = label
    rgb = np.empty(labels.shape + (3,))
    rgb[:] = water
    rgb[:30] = (0.85, 0.9, 0.95)
    rgb[labels > 0] = dolphin
    rgb[55, 100] = rgb[100, 20] = (1.0, 1.0, 1.0)
    rgb += np.random.default_rng(0).normal(0, 0.02, rgb.shape)
    return as_dtype(rgb, dtype), labels


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_color_kmeans_finds_grey_dolphins_in_blue_water(dtype):
    image, labels = sea(water=(0.15, 0.35, 0.65), dtype=dtype)
    found = color_kmeans(image)
    assert found.dtype == np.uint16
    scores = segmentation_scores(found, labels)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (2, 0, 0), scores
    assert scores["mean_matched_iou"] > 0.9


def test_color_kmeans_prefers_grey_over_darker_blue_water():
    # Deep water darker than the animals: lightness alone would pick the water.
    image, labels = sea(water=(0.02, 0.12, 0.4), dolphin=(0.35, 0.35, 0.37))
    assert segmentation_scores(color_kmeans(image), labels)["f1"] == 1.0


def test_color_kmeans_needs_colour():
    with pytest.raises(UserError):
        color_kmeans(np.zeros((32, 32), dtype=np.uint8))


def test_registry_and_default():
    assert default_baseline(3) == "color_kmeans"
    assert default_baseline(1) == default_baseline(2) == "otsu_watershed"
    assert default_baseline(3, "rgb") == "otsu_watershed"  # a microscopy model that reads any image as RGB
    assert set(BASELINES) == {"otsu_watershed", "color_kmeans"}
    assert BASELINES[default_baseline(3)] is color_kmeans
