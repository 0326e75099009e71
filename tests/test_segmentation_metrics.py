import numpy as np
import pytest

from img2img.errors import UserError
from img2img.segmentation.metrics import aggregate_scores, match_instances, segmentation_scores


def squares(shape, boxes, ids=None):
    """Label image with one rectangle (r0, r1, c0, c1) per object, numbered by `ids`."""
    labels = np.zeros(shape, dtype=np.uint16)
    for label, (r0, r1, c0, c1) in zip(ids or range(1, len(boxes) + 1), boxes):
        labels[r0:r1, c0:c1] = label
    return labels


def test_two_of_three_matched_with_one_false_positive():
    true = squares((40, 40), [(0, 10, 0, 10), (20, 30, 0, 10), (0, 10, 20, 30)])
    pred = squares((40, 40), [(0, 10, 0, 10), (20, 30, 0, 10), (30, 40, 30, 40)])
    scores = segmentation_scores(pred, true)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (2, 1, 1)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["mean_matched_iou"] == pytest.approx(1.0)
    # Foreground: 300 true, 300 predicted, 200 shared.
    assert scores["pixel_iou"] == pytest.approx(200 / 400)
    assert scores["dice"] == pytest.approx(400 / 600)


@pytest.mark.parametrize("pred_pixels, matched", [(49, False), (50, True), (51, True)])
def test_iou_threshold_is_inclusive(pred_pixels, matched):
    true = squares((10, 10), [(0, 10, 0, 10)])  # 100 pixels
    pred = np.zeros_like(true)
    pred.ravel()[:pred_pixels] = 7  # inside the true square, so IoU = pred_pixels / 100
    result = match_instances(pred, true, iou_threshold=0.5)
    assert result.tp == int(matched)
    assert (result.fp, result.fn) == (1 - matched, 1 - matched)
    if matched:
        assert result.ious == pytest.approx([pred_pixels / 100])


def test_permuted_and_sparse_ids_give_perfect_scores_and_correct_pairs():
    boxes = [(0, 10, 0, 10), (20, 30, 0, 10), (0, 10, 20, 30)]
    true = squares((40, 40), boxes, ids=[3, 700, 65000])
    pred = squares((40, 40), boxes, ids=[40000, 2, 1])
    result = match_instances(pred, true)
    assert (result.tp, result.fp, result.fn) == (3, 0, 0)
    assert sorted(map(tuple, result.pairs.tolist())) == [(3, 40000), (700, 2), (65000, 1)]
    scores = segmentation_scores(pred, true)
    assert scores["f1"] == scores["pixel_iou"] == scores["mean_matched_iou"] == 1.0


def test_one_prediction_cannot_match_two_objects():
    # Two adjacent 10x10 objects merged into one prediction: IoU exactly 0.5 with each.
    true = squares((10, 20), [(0, 10, 0, 10), (0, 10, 10, 20)])
    pred = squares((10, 20), [(0, 10, 0, 20)])
    result = match_instances(pred, true)
    assert (result.tp, result.fp, result.fn) == (1, 0, 1)


def test_low_threshold_maximises_the_number_of_matches():
    # IoU(A,P) = 0.6 alone beats IoU(A,Q) + IoU(B,P) = 0.5, but the latter are two matches.
    true = np.array([[1, 1, 1, 1, 2, 0, 0, 0]])
    pred = np.array([[2, 1, 1, 1, 1, 0, 0, 0]])
    result = match_instances(pred, true, iou_threshold=0.2)
    assert result.tp == 2
    assert sorted(map(tuple, result.pairs.tolist())) == [(1, 2), (2, 1)]
    assert result.ious == pytest.approx([0.25, 0.25])


def test_empty_images():
    empty = np.zeros((8, 8), dtype=np.uint16)
    full = squares((8, 8), [(0, 4, 0, 4)])
    both_empty = segmentation_scores(empty, empty)
    for key in ("pixel_iou", "dice", "precision", "recall", "f1", "mean_matched_iou"):
        assert both_empty[key] == 1.0
    assert (both_empty["tp"], both_empty["fp"], both_empty["fn"]) == (0, 0, 0)
    for pred, true in ((empty, full), (full, empty)):
        scores = segmentation_scores(pred, true)
        for key in ("pixel_iou", "dice", "precision", "recall", "f1", "mean_matched_iou"):
            assert scores[key] == 0.0
    assert segmentation_scores(empty, full)["fn"] == 1
    assert segmentation_scores(full, empty)["fp"] == 1


def test_image_without_background():
    true = squares((4, 4), [(0, 4, 0, 2), (0, 4, 2, 4)])
    result = match_instances(true[:, ::-1].copy(), true)
    assert (result.tp, result.fp, result.fn) == (2, 0, 0)


def test_aggregate_sums_counts_and_averages_pixel_scores():
    per_image = [
        {"pixel_iou": 0.5, "dice": 0.6, "tp": 2, "fp": 1, "fn": 1, "mean_matched_iou": 0.8},
        {"pixel_iou": 0.0, "dice": 0.0, "tp": 0, "fp": 0, "fn": 3, "mean_matched_iou": 0.0},
        {"pixel_iou": 1.0, "dice": 1.0, "tp": 1, "fp": 0, "fn": 0, "mean_matched_iou": 0.5},
    ]
    total = aggregate_scores(per_image)
    assert (total["tp"], total["fp"], total["fn"], total["n_images"]) == (3, 1, 4, 3)
    assert total["precision"] == pytest.approx(3 / 4)
    assert total["recall"] == pytest.approx(3 / 7)
    assert total["f1"] == pytest.approx(6 / 11)
    assert total["mean_matched_iou"] == pytest.approx((2 * 0.8 + 0.5) / 3)
    assert total["pixel_iou"] == pytest.approx(0.5)
    assert total["dice"] == pytest.approx(1.6 / 3)


def test_aggregate_of_empty_images_is_perfect_and_of_nothing_an_error():
    empty = np.zeros((4, 4), dtype=np.uint8)
    total = aggregate_scores([segmentation_scores(empty, empty)] * 2)
    assert total["f1"] == total["precision"] == total["recall"] == total["mean_matched_iou"] == 1.0
    with pytest.raises(UserError):
        aggregate_scores([])


@pytest.mark.parametrize(
    "pred, true",
    [
        (np.zeros((4, 4), int), np.zeros((4, 5), int)),
        (np.zeros((4, 4), float), np.zeros((4, 4), int)),
        (np.full((4, 4), -1), np.zeros((4, 4), int)),
    ],
)
def test_bad_masks_are_user_errors(pred, true):
    with pytest.raises(UserError):
        segmentation_scores(pred, true)
