"""Instance segmentation scores: pixel overlap and object matching at an IoU threshold.

Edge cases follow one rule: when both images are empty every score is 1.0 (nothing to
find, nothing found); otherwise a ratio with a zero denominator is 0.0, so an empty
prediction of a non-empty image, or objects predicted on an empty one, score 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from img2img.errors import UserError


@dataclass
class MatchResult:
    """One-to-one matches between predicted and true objects."""

    tp: int
    fp: int
    fn: int
    ious: np.ndarray  # IoU of each matched pair
    pairs: np.ndarray  # (tp, 2) original (true id, pred id) of each matched pair


def match_instances(pred: np.ndarray, true: np.ndarray, iou_threshold: float = 0.5) -> MatchResult:
    """Match objects one-to-one: as many pairs with IoU >= threshold as possible, then the
    highest total IoU.

    Overlaps come from one histogram of (true, pred) label pairs, so the cost is one pass
    over the pixels whatever the number of objects; only overlapping pairs are stored.
    """
    pred, true = _check_pair(pred, true)
    true_ids, true_areas, true_index = _objects(true)
    pred_ids, pred_areas, pred_index = _objects(pred)
    both = (true_index >= 0) & (pred_index >= 0)
    codes = true_index[both] * len(pred_ids) + pred_index[both]
    codes, intersections = np.unique(codes, return_counts=True)
    t, p = np.divmod(codes, max(len(pred_ids), 1))
    ious = intersections / (true_areas[t] + pred_areas[p] - intersections)

    candidates = np.flatnonzero(ious >= iou_threshold)
    chosen = np.sort(candidates[_one_to_one(t[candidates], p[candidates], ious[candidates])])
    tp = len(chosen)
    return MatchResult(
        tp=tp,
        fp=len(pred_ids) - tp,
        fn=len(true_ids) - tp,
        ious=ious[chosen],
        pairs=np.stack([true_ids[t[chosen]], pred_ids[p[chosen]]], axis=1),
    )


def _objects(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Object ids, their areas, and the image as indices into them (-1 for background)."""
    ids, index, areas = np.unique(labels, return_inverse=True, return_counts=True)
    index = index.reshape(labels.shape)
    if ids[0] == 0:
        return ids[1:], areas[1:], index - 1
    return ids, areas, index


def _one_to_one(t: np.ndarray, p: np.ndarray, ious: np.ndarray) -> np.ndarray:
    """Indices of the candidate (true t, pred p) pairs kept as matches.

    At IoU > 0.5 an object can overlap only one other that well, so most pairs are the only
    candidate of both their objects and are kept as they are; only the rest, usually none,
    go to the assignment solver, which keeps it fast with thousands of objects.
    """
    shared = (np.bincount(t)[t] > 1) | (np.bincount(p)[p] > 1)
    chosen = np.flatnonzero(~shared)
    if shared.any():
        contested = np.flatnonzero(shared)
        rows, r = np.unique(t[contested], return_inverse=True)
        cols, c = np.unique(p[contested], return_inverse=True)
        weights = np.zeros((len(rows), len(cols)))
        # A match outweighs any IoU total, so the number of matches is maximised first.
        weights[r, c] = ious[contested] + min(weights.shape) + 1
        pair = np.full(weights.shape, -1)
        pair[r, c] = contested
        picked = pair[linear_sum_assignment(weights, maximize=True)]
        chosen = np.concatenate([chosen, picked[picked >= 0]])
    return chosen


def segmentation_scores(pred: np.ndarray, true: np.ndarray, iou_threshold: float = 0.5) -> dict:
    """Scores of one predicted label image: pixel_iou and dice of foreground against
    foreground, then precision, recall, f1, tp, fp, fn and mean_matched_iou of objects."""
    pred, true = _check_pair(pred, true)
    match = match_instances(pred, true, iou_threshold)
    pred_fg, true_fg = pred > 0, true > 0
    intersection = int(np.count_nonzero(pred_fg & true_fg))
    total = int(np.count_nonzero(pred_fg)) + int(np.count_nonzero(true_fg))
    both_empty = total == 0
    return {
        "pixel_iou": _ratio(intersection, total - intersection, both_empty),
        "dice": _ratio(2 * intersection, total, both_empty),
        **_object_scores(match.tp, match.fp, match.fn, float(match.ious.sum())),
    }


def aggregate_scores(per_image: list[dict]) -> dict:
    """Object scores from counts summed over images, so each object weighs the same;
    pixel IoU and Dice as a mean over images, so each image does."""
    if not per_image:
        raise UserError("no images to evaluate")
    tp, fp, fn = (sum(int(s[k]) for s in per_image) for k in ("tp", "fp", "fn"))
    iou_sum = sum(s["mean_matched_iou"] * s["tp"] for s in per_image)
    return {
        "pixel_iou": float(np.mean([s["pixel_iou"] for s in per_image])),
        "dice": float(np.mean([s["dice"] for s in per_image])),
        **_object_scores(tp, fp, fn, iou_sum),
        "n_images": len(per_image),
    }


def _object_scores(tp: int, fp: int, fn: int, iou_sum: float) -> dict:
    both_empty = tp + fp + fn == 0
    return {
        "precision": _ratio(tp, tp + fp, both_empty),
        "recall": _ratio(tp, tp + fn, both_empty),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, both_empty),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "mean_matched_iou": _ratio(iou_sum, tp, both_empty),
    }


def _ratio(numerator: float, denominator: float, both_empty: bool) -> float:
    if denominator == 0:
        return 1.0 if both_empty else 0.0
    return float(numerator / denominator)


def _check_pair(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(pred), np.asarray(true)
    if pred.shape != true.shape or pred.ndim != 2 or pred.size == 0:
        raise UserError(
            f"predicted and true masks must be non-empty 2D images of one shape, got {pred.shape} and {true.shape}"
        )
    for name, labels in (("predicted", pred), ("true", true)):
        if labels.dtype.kind not in "iub" or (labels.size and labels.min() < 0):
            raise UserError(f"{name} mask must hold non-negative integer labels, got {labels.dtype}")
    return pred, true
