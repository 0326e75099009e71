"""Synthetic data: shapes, label sanity, reproducibility, difficulty, and the writer."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import tifffile
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from skimage.filters import threshold_otsu
from skimage.measure import label as connected_components

from img2img.data.synthetic import GENERATORS, render_cells, render_fins, write_synthetic_dataset
from img2img.errors import UserError


def object_f1(truth: np.ndarray, predicted: np.ndarray, iou_threshold: float = 0.5) -> float:
    """Instance F1: objects matched one-to-one (Hungarian on IoU) count when IoU >= threshold."""
    n_true, n_pred = int(truth.max()), int(predicted.max())
    if n_true == 0 or n_pred == 0:
        return float(n_true == n_pred)
    both = (truth > 0) & (predicted > 0)
    pairs = truth[both].astype(np.int64) * (n_pred + 1) + predicted[both]
    overlap = np.bincount(pairs, minlength=(n_true + 1) * (n_pred + 1)).reshape(n_true + 1, n_pred + 1)[1:, 1:]
    area_true = np.bincount(truth.ravel(), minlength=n_true + 1)[1:]
    area_pred = np.bincount(predicted.ravel(), minlength=n_pred + 1)[1:]
    iou = overlap / (area_true[:, None] + area_pred[None, :] - overlap)
    rows, cols = linear_sum_assignment(-iou)
    hits = int((iou[rows, cols] >= iou_threshold).sum())
    return 2 * hits / (n_true + n_pred)


def otsu_instances(image: np.ndarray, dark: bool = False) -> np.ndarray:
    """The naive baseline: one global Otsu threshold, then connected components."""
    foreground = image <= threshold_otsu(image) if dark else image > threshold_otsu(image)
    return connected_components(foreground)


def contact_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of different labels that touch through a 4-neighbourhood."""
    pairs = set()
    for a, b in ((labels[:, 1:], labels[:, :-1]), (labels[1:], labels[:-1])):
        touch = (a != b) & (a > 0) & (b > 0)
        pairs |= {tuple(sorted(p)) for p in zip(a[touch].tolist(), b[touch].tolist())}
    return pairs


def rings(labels: np.ndarray, inner: int, outer: int):
    """(own mask, surrounding background ring mask, box) for every object."""
    everything = labels > 0
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        box = tuple(slice(max(s.start - outer - 2, 0), s.stop + outer + 2) for s in box)
        own = labels[box] == index
        ring = ndimage.binary_dilation(own, iterations=outer) & ~ndimage.binary_dilation(own, iterations=inner)
        yield own, ring & ~everything[box], box


def small_sizes(count: int) -> list[tuple[int, int]]:
    return [(256 + 32 * (i % 5), 256 + 32 * ((i * 2) % 5)) for i in range(count)]


# --- both generators ------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_random_size_within_range(kind):
    for seed in range(2):
        image, labels = GENERATORS[kind](np.random.default_rng(seed))
        assert 256 <= image.shape[0] <= 1024 and 256 <= image.shape[1] <= 1024
        assert labels.shape == image.shape[:2]


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_labels_are_numbered_connected_instances(kind):
    for i, size in enumerate(small_sizes(6)):
        _, labels = GENERATORS[kind](np.random.default_rng([1, i]), size)
        assert labels.dtype == np.uint16
        n = int(labels.max())
        assert n >= 1
        assert set(np.unique(labels).tolist()) == set(range(n + 1)), "labels must be 0..N without gaps"
        pieces = int(connected_components(labels, background=0, connectivity=1).max())
        assert pieces == n, "every instance must be one 4-connected piece"


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_same_seed_same_output_and_different_seed_differs(kind):
    render = GENERATORS[kind]
    image_a, labels_a = render(np.random.default_rng(42), (256, 300))
    image_b, labels_b = render(np.random.default_rng(42), (256, 300))
    image_c, _ = render(np.random.default_rng(43), (256, 300))
    assert np.array_equal(image_a, image_b) and np.array_equal(labels_a, labels_b)
    assert not np.array_equal(image_a, image_c)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_fast_enough(kind):
    """Loose guard against accidentally drawing objects over the whole frame (target: ~0.4 s at 1024)."""
    GENERATORS[kind](np.random.default_rng(0), (256, 256))  # warm-up
    start = time.perf_counter()
    GENERATORS[kind](np.random.default_rng(1), (512, 512))
    assert time.perf_counter() - start < 2.0


# --- cells ----------------------------------------------------------------------


def test_cells_look_like_a_16_bit_camera_image():
    image, labels = render_cells(np.random.default_rng(3), (300, 256))
    assert image.dtype == np.uint16 and image.shape == (300, 256)
    assert 50 < image.min() < 2000, "a camera offset, not zero"
    assert 1000 < image.max() < 65535, "signal of a few thousand counts, not saturated"
    density = labels.max() / (image.size / 256**2)
    assert 8 <= density <= 70, f"{density:.0f} nuclei per 256 x 256"


def test_cells_touch_and_vary_in_brightness():
    sunk = []
    for i, size in enumerate(small_sizes(6)):
        image, labels = render_cells(np.random.default_rng([2, i]), size)
        assert contact_pairs(labels), "some nuclei must touch or overlap"
        means = ndimage.mean(image.astype(float), labels, np.arange(1, labels.max() + 1))
        assert np.percentile(means, 95) > 2 * np.percentile(means, 5)
        # Dim nuclei are darker than the bright parts of the uneven background.
        sunk.append((means < np.percentile(image[labels == 0], 95)).mean())
    assert min(sunk) > 0 and np.mean(sunk) > 0.05, sunk


def test_global_threshold_does_not_solve_cells():
    scores = []
    for i, size in enumerate(small_sizes(8)):
        image, labels = render_cells(np.random.default_rng([3, i]), size)
        scores.append(object_f1(labels, otsu_instances(image)))
    assert np.mean(scores) < 0.7, scores


def test_every_nucleus_stands_out_from_its_surroundings():
    """Learnable: nearly every nucleus is brighter than its local background by more than the noise there."""
    ratios = []
    for i, size in enumerate(small_sizes(6)):
        image, labels = render_cells(np.random.default_rng([4, i]), size)
        image = image.astype(float)
        for own, ring, box in rings(labels, inner=2, outer=6):
            if ring.sum() >= 10:
                around = image[box][ring]
                ratios.append((image[box][own].mean() - np.median(around)) / (around.std() + 1e-9))
    ratios = np.array(ratios)
    assert len(ratios) > 100
    assert (ratios > 1.0).mean() > 0.95, np.percentile(ratios, [0, 1, 5])
    assert (ratios > 0.0).all()


def test_local_background_normalisation_beats_the_global_threshold():
    """A crude local method (rolling minimum background, one ratio threshold) already does far better."""
    global_iou, local_iou = [], []
    for i, size in enumerate(small_sizes(4)):
        image, labels = render_cells(np.random.default_rng([5, i]), size)
        truth = labels > 0
        smooth = ndimage.gaussian_filter(image.astype(float), 1.5)
        background = ndimage.gaussian_filter(ndimage.maximum_filter(ndimage.minimum_filter(smooth, 41), 41), 8)
        ratio = (smooth - background) / (background - image.min() + 50)
        for guess, scores in ((image > threshold_otsu(image), global_iou), (ratio > 0.15, local_iou)):
            scores.append((guess & truth).sum() / (guess | truth).sum())
    assert np.mean(local_iou) > np.mean(global_iou) + 0.15, (global_iou, local_iou)


# --- fins -----------------------------------------------------------------------


def test_fins_are_rgb_photographs_with_one_to_five_dolphins():
    counts = []
    for i, size in enumerate(small_sizes(6)):
        image, labels = render_fins(np.random.default_rng([6, i]), size)
        assert image.dtype == np.uint8 and image.shape == (*size, 3)
        assert image.std(axis=(0, 1)).min() > 5, "a real scene, not a flat colour"
        counts.append(int(labels.max()))
    assert 1 <= min(counts) and max(counts) <= 5 and len(set(counts)) > 1


def test_every_dolphin_is_visible_against_the_water():
    for i, size in enumerate(small_sizes(6)):
        image, labels = render_fins(np.random.default_rng([7, i]), size)
        image = image.astype(float) / 255
        for own, ring, box in rings(labels, inner=1, outer=5):
            difference = image[box][own].mean(axis=0) - np.median(image[box][ring], axis=0)
            assert np.linalg.norm(difference) > 0.06


def test_global_threshold_does_not_solve_fins():
    scores = []
    for i, size in enumerate(small_sizes(8)):
        image, labels = render_fins(np.random.default_rng([8, i]), size)
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        scores.append(max(object_f1(labels, otsu_instances(grey, dark=dark)) for dark in (True, False)))
    assert np.mean(scores) < 0.7, scores


# --- writer ---------------------------------------------------------------------


def test_writer_pairs_images_and_masks(tmp_path):
    paths = write_synthetic_dataset("cells", tmp_path / "cells", n=3, seed=1, size=96, progress=False)
    assert [p.name for p in paths] == ["cells_0000.tif", "cells_0001.tif", "cells_0002.tif"]
    masks = sorted((tmp_path / "cells" / "masks").iterdir())
    assert [m.stem for m in masks] == [p.stem for p in paths]
    image, mask = tifffile.imread(paths[0]), tifffile.imread(masks[0])
    assert image.dtype == np.uint16 and mask.dtype == np.uint16 and image.shape == mask.shape == (96, 96)
    expected_image, expected_mask = render_cells(np.random.default_rng([1, 0]), (96, 96))
    assert np.array_equal(image, expected_image) and np.array_equal(mask, expected_mask)


def test_writer_fins_png_is_rgb(tmp_path):
    paths = write_synthetic_dataset("fins", tmp_path, n=1, seed=2, size=128, progress=True)
    assert paths == [tmp_path / "images" / "fins_0000.png"]
    on_disk = cv2.imread(str(paths[0]), cv2.IMREAD_UNCHANGED)[..., ::-1]
    expected, expected_mask = render_fins(np.random.default_rng([2, 0]), (128, 128))
    assert np.array_equal(on_disk, expected), "channels must be stored in RGB order"
    assert np.array_equal(tifffile.imread(tmp_path / "masks" / "fins_0000.tif"), expected_mask)


def test_writer_growing_n_keeps_earlier_images(tmp_path):
    small = write_synthetic_dataset("cells", tmp_path / "a", n=1, seed=5, size=80, progress=False)
    large = write_synthetic_dataset("cells", tmp_path / "b", n=2, seed=5, size=80, progress=False)
    assert np.array_equal(tifffile.imread(small[0]), tifffile.imread(large[0]))
    assert not np.array_equal(tifffile.imread(large[0]), tifffile.imread(large[1]))


def test_writer_refuses_to_mix_data_sets(tmp_path):
    write_synthetic_dataset("cells", tmp_path, n=1, size=64, progress=False)
    with pytest.raises(UserError, match="already contains files"):
        write_synthetic_dataset("cells", tmp_path, n=1, size=64, progress=False)


def test_writer_rejects_bad_arguments(tmp_path):
    with pytest.raises(UserError, match="cells, fins"):
        write_synthetic_dataset("tissue", tmp_path, n=1)
    with pytest.raises(UserError, match="at least 1"):
        write_synthetic_dataset("cells", tmp_path, n=0)
    with pytest.raises(UserError, match="at least 32 px"):
        write_synthetic_dataset("fins", tmp_path, n=1, size=8)
    assert not (tmp_path / "images").exists(), "nothing written for a bad call"


def test_writer_leaves_no_temporary_files(tmp_path):
    write_synthetic_dataset("fins", tmp_path, n=2, size=96, progress=False)
    leftovers = [p.name for p in tmp_path.rglob("*") if ".tmp" in p.name or p.name.startswith(".")]
    assert leftovers == []
    assert len(list((tmp_path / "images").iterdir())) == len(list((tmp_path / "masks").iterdir())) == 2


def test_filaments_are_thin_bright_fibres_seen_by_a_noisy_camera(tmp_path):
    from img2img.data.synthetic import render_filaments

    noisy, clean = render_filaments(np.random.default_rng(3), (256, 256))
    again, _ = render_filaments(np.random.default_rng(3), (256, 256))
    assert noisy.dtype == clean.dtype == np.uint16 and noisy.shape == clean.shape == (256, 256)
    assert np.array_equal(noisy, again)
    assert 100 <= np.median(clean) < 200  # camera offset plus faint haze
    fibres = clean > 300
    assert 0.02 < fibres.mean() < 0.3
    # Thin: an opening with a 7 px disk removes nearly all of them (nuclei-sized blobs would stay).
    opened = cv2.morphologyEx(fibres.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    assert opened.sum() < 0.1 * fibres.sum()
    assert 4 < np.std(noisy.astype(float) - clean) < 60
    write_synthetic_dataset("filaments", tmp_path, n=2, size=64, progress=False)
    assert [p.name for p in sorted((tmp_path / "targets").iterdir())] == ["filaments_0000.tif", "filaments_0001.tif"]
    assert tifffile.imread(tmp_path / "images" / "filaments_0001.tif").shape == (64, 64)
