"""Instance segmentation scores: pixel overlap and object matching at an IoU threshold, and the
field's scores over the IoU thresholds 0.5..0.95.

The field's scores, so that numbers compare with published ones: at each threshold precision,
recall, F1 and accuracy = TP / (TP + FP + FN) (StarDist's "accuracy", the DSB 2018 Kaggle
"precision"); `dsb_score`, the mean accuracy over the ten thresholds (Kaggle Data Science Bowl
2018); panoptic quality PQ = SQ x RQ at IoU 0.5 (Kirillov et al. 2019), SQ the mean IoU of
matched pairs and RQ the F1. A pair matches at IoU >= threshold (Kaggle and Kirillov write >;
the two differ only for a pair exactly at a threshold).

Edge cases follow one rule: when both images are empty every score is 1.0 (nothing to
find, nothing found); otherwise a ratio with a zero denominator is 0.0, so an empty
prediction of a non-empty image, or objects predicted on an empty one, score 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from img2img.errors import UserError

# IoU thresholds of the field's tables (COCO, DSB 2018, StarDist): 0.5, 0.55, ..., 0.95.
IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))


def threshold_key(threshold: float) -> str:
    """Key of a threshold in `scores["thresholds"]`: 0.5 -> "0.5", 0.75 -> "0.75"."""
    return f"{threshold:g}"


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
    foreground; precision, recall, f1, accuracy, tp, fp, fn and mean_matched_iou of objects
    matched at `iou_threshold`; and the field's scores: dsb_score, pq, sq, rq, and
    thresholds = {"0.5": {tp, fp, fn, precision, recall, f1, accuracy}, ..., "0.95": {...}}."""
    pred, true = _check_pair(pred, true)
    at_half = match_instances(pred, true, 0.5)
    match = at_half if iou_threshold == 0.5 else match_instances(pred, true, iou_threshold)
    pred_fg, true_fg = pred > 0, true > 0
    intersection = int(np.count_nonzero(pred_fg & true_fg))
    total = int(np.count_nonzero(pred_fg)) + int(np.count_nonzero(true_fg))
    both_empty = total == 0
    field = _field_scores(_sweep(at_half), float(at_half.ious.sum()))
    return {
        "pixel_iou": _ratio(intersection, total - intersection, both_empty),
        "dice": _ratio(2 * intersection, total, both_empty),
        **_object_scores(match.tp, match.fp, match.fn, float(match.ious.sum())),
        "dsb_score": float(np.mean([s["accuracy"] for s in field["thresholds"].values()])),
        **field,
    }


def _sweep(match: MatchResult) -> dict[str, tuple[int, int, int]]:
    """(tp, fp, fn) at every threshold in IOU_THRESHOLDS from one matching at 0.5.

    Above IoU 0.5 a pair is unique: IoU(a, b) > 0.5 means b covers more than half of a and a
    more than half of b, so neither reaches IoU 0.5 with any other object. Such a pair is the
    only candidate of both its objects, every matching at 0.5 keeps it, and the matches at a
    threshold t > 0.5 are therefore the 0.5 matches with IoU >= t: no new matching is needed.
    """
    n_pred, n_true = match.tp + match.fp, match.tp + match.fn
    counts = {}
    for threshold in IOU_THRESHOLDS:
        tp = int(np.count_nonzero(match.ious >= threshold))
        counts[threshold_key(threshold)] = (tp, n_pred - tp, n_true - tp)
    return counts


def aggregate_scores(per_image: list[dict]) -> dict:
    """Object scores from counts summed over images, so each object weighs the same;
    pixel IoU and Dice as a mean over images, so each image does. With the field's scores
    (rows from `segmentation_scores`): counts pooled at every threshold and for PQ, and
    dsb_score the mean over images, as Kaggle scored DSB 2018."""
    if not per_image:
        raise UserError("no images to evaluate")
    tp, fp, fn = (sum(int(s[k]) for s in per_image) for k in ("tp", "fp", "fn"))
    iou_sum = sum(s["mean_matched_iou"] * s["tp"] for s in per_image)
    summary = {
        "pixel_iou": float(np.mean([s["pixel_iou"] for s in per_image])),
        "dice": float(np.mean([s["dice"] for s in per_image])),
        **_object_scores(tp, fp, fn, iou_sum),
    }
    if all("thresholds" in s for s in per_image):
        counts = {
            key: tuple(sum(int(s["thresholds"][key][k]) for s in per_image) for k in ("tp", "fp", "fn"))
            for key in map(threshold_key, IOU_THRESHOLDS)
        }
        matched_iou = sum(s["sq"] * s["thresholds"]["0.5"]["tp"] for s in per_image)
        summary["dsb_score"] = float(np.mean([s["dsb_score"] for s in per_image]))
        summary.update(_field_scores(counts, matched_iou))
    summary["n_images"] = len(per_image)
    return summary


def aggregate_by_group(per_image: list[dict], groups: Mapping[str, str], default: str = "other") -> dict[str, dict]:
    """`aggregate_scores` of each group's images, e.g. per imaging modality: rows carry the
    image's "name", `groups` maps names to groups, and names it lacks go to `default`."""
    members: dict[str, list[dict]] = {}
    for row in per_image:
        members.setdefault(groups.get(row["name"], default), []).append(row)
    return {group: aggregate_scores(rows) for group, rows in sorted(members.items())}


def _field_scores(counts: dict[str, tuple[int, int, int]], matched_iou: float) -> dict:
    """PQ, SQ, RQ at IoU 0.5 and the scores at each threshold, from counts and the IoU sum of
    the pairs matched at 0.5. PQ = sum IoU / (TP + FP/2 + FN/2) = SQ x F1."""
    thresholds = {key: _count_scores(*c) for key, c in counts.items()}
    half = thresholds["0.5"]
    sq = _ratio(matched_iou, half["tp"], half["tp"] + half["fp"] + half["fn"] == 0)
    return {"pq": sq * half["f1"], "sq": sq, "rq": half["f1"], "thresholds": thresholds}


def _count_scores(tp: int, fp: int, fn: int) -> dict:
    both_empty = tp + fp + fn == 0
    return {
        "precision": _ratio(tp, tp + fp, both_empty),
        "recall": _ratio(tp, tp + fn, both_empty),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, both_empty),
        "accuracy": _ratio(tp, tp + fp + fn, both_empty),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _object_scores(tp: int, fp: int, fn: int, iou_sum: float) -> dict:
    return {**_count_scores(tp, fp, fn), "mean_matched_iou": _ratio(iou_sum, tp, tp + fp + fn == 0)}


def _ratio(numerator: float, denominator: float, both_empty: bool) -> float:
    if denominator == 0:
        return 1.0 if both_empty else 0.0
    return float(numerator / denominator)


def _check_pair(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(pred), np.asarray(true)
    if pred.shape != true.shape or pred.ndim not in (2, 3) or pred.size == 0:
        raise UserError(
            f"predicted and true masks must be non-empty 2D images or 3D volumes of one shape, got {pred.shape} and {true.shape}"
        )
    for name, labels in (("predicted", pred), ("true", true)):
        if labels.dtype.kind not in "iub" or (labels.size and labels.min() < 0):
            raise UserError(f"{name} mask must hold non-negative integer labels, got {labels.dtype}")
    return pred, true
