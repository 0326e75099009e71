import numpy as np
import pytest
from scipy import ndimage
from skimage.draw import disk, ellipse

from img2img.errors import UserError
from img2img.segmentation.metrics import segmentation_scores
from img2img.segmentation.encoding import labels_to_target, target_to_labels


def touching_objects(seed=0, size=256):
    """Clusters of two or three discs and ellipses (radii 6-18 px) that touch or overlap a little.

    Each object keeps only pixels not taken by an earlier one, as in a real label mask.
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros((size, size), dtype=np.uint16)
    n = 0
    for cy in range(40, size - 20, 80):
        for cx in range(40, size - 20, 80):
            y, x = float(cy), float(cx)
            for _ in range(rng.integers(2, 4)):
                r = rng.uniform(6, 18)
                if rng.random() < 0.5:
                    rr, cc = disk((y, x), r, shape=labels.shape)
                else:
                    rr, cc = ellipse(y, x, r, 0.6 * r, shape=labels.shape, rotation=rng.uniform(0, np.pi))
                free = labels[rr, cc] == 0
                n += 1
                labels[rr[free], cc[free]] = n
                angle = rng.uniform(0, 2 * np.pi)
                step = 0.9 * (r + rng.uniform(6, 18))  # next centre: about one radius each, so they touch
                y, x = y + step * np.sin(angle), x + step * np.cos(angle)
    return labels


def test_target_channels():
    labels = touching_objects()
    target = labels_to_target(labels)
    assert target.shape == (2,) + labels.shape and target.dtype == np.float32
    assert np.array_equal(target[0], labels > 0)
    assert target[1][labels == 0].max() == 0 and target[1][labels > 0].min() > 0
    peaks = ndimage.maximum(target[1], labels, index=np.arange(1, labels.max() + 1))
    assert np.allclose(peaks, 1.0)


def test_shared_border_and_image_edge_are_low():
    labels = np.zeros((20, 40), dtype=np.uint16)
    labels[:, :20], labels[:, 20:] = 1, 2  # two halves touching along a column, filling the image
    distance = labels_to_target(labels)[1]
    assert distance[10, 19] == distance[10, 20] == pytest.approx(0.1)
    assert distance[0, 10] == pytest.approx(0.1)  # the image edge is a boundary
    assert distance[10, 10] == 1.0


def test_round_trip_separates_touching_objects():
    for seed in range(3):
        labels = touching_objects(seed)
        decoded = target_to_labels(labels_to_target(labels))
        assert decoded.dtype == np.uint16
        scores = segmentation_scores(decoded, labels)
        assert scores["fp"] == scores["fn"] == 0, f"seed {seed}: {scores}"
        assert scores["mean_matched_iou"] > 0.9


def test_decoding_tolerates_blur_and_noise():
    rng = np.random.default_rng(1)
    labels = touching_objects(3)
    target = ndimage.gaussian_filter(labels_to_target(labels), (0, 1.5, 1.5))
    target = target * np.array([1.0, 0.8])[:, None, None] + rng.normal(0, 0.1, target.shape)
    scores = segmentation_scores(target_to_labels(target), labels)
    assert scores["f1"] >= 0.95, scores


def test_background_and_noise_decode_to_nothing():
    rng = np.random.default_rng(2)
    assert not target_to_labels(np.zeros((2, 32, 32))).any()
    noise = rng.uniform(0, 0.45, (2, 64, 64))
    assert not target_to_labels(noise).any()
    speckle = (rng.random((2, 64, 64)) > 0.97).astype(np.float32)  # isolated bright pixels
    assert not target_to_labels(speckle).any()


def test_object_without_seed_is_kept_and_small_objects_dropped():
    prediction = np.zeros((2, 40, 40), dtype=np.float32)
    prediction[0, 5:15, 5:15] = 1  # 100 px, distance channel left at 0: no seed
    prediction[0, 30:33, 30:33] = 1  # 9 px
    decoded = target_to_labels(prediction, min_size=16)
    assert decoded.max() == 1
    assert np.array_equal(decoded > 0, prediction[0] * (np.arange(40) < 20) > 0)


def test_bad_inputs_are_user_errors():
    with pytest.raises(UserError):
        target_to_labels(np.zeros((4, 8, 8)))
    with pytest.raises(UserError):
        labels_to_target(np.zeros((8, 8), dtype=np.float32))


def test_contact_zones_mark_only_where_objects_touch():
    labels = np.zeros((20, 40), dtype=np.uint16)
    labels[5:15, 5:20], labels[5:15, 20:35] = 1, 2  # touching along column 20
    labels[0:3, 0:3] = 3  # alone
    target = labels_to_target(labels, "distance_contact")
    assert target.shape == (3, 20, 40)
    contact = target[2] > 0
    assert set(np.unique(np.nonzero(contact)[1])) == {18, 19, 20, 21}  # radius 2 on both sides
    assert not contact[labels == 3].any() and not contact[labels == 0].any()


def test_contact_channel_separates_seeds_that_the_distance_alone_would_join():
    labels = touching_objects(seed=4)
    target = labels_to_target(labels, "distance_contact")
    blurred = np.stack([ndimage.gaussian_filter(c, 2.0) for c in target])
    blurred[1] = np.maximum(blurred[1], 0.45 * blurred[0])  # a flat, shallow valley between touching objects
    with_contacts = segmentation_scores(target_to_labels(blurred), labels)["f1"]
    without = segmentation_scores(target_to_labels(blurred[:2]), labels)["f1"]
    assert with_contacts > without + 0.1


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(UserError, match="segmentation.encoding"):
        labels_to_target(np.zeros((4, 4), np.uint16), "flows")
