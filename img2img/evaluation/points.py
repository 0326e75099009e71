"""Scoring point detections (larva centres) against ground-truth points.

A detection counts as found when it lies within `radius` px of a true point; each true point
can be claimed once. The one-to-one assignment that minimizes the total distance
(Hungarian) is used, so two close larvae are not both credited to one detection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class PointScore:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    offsets: list[float] = field(default_factory=list)  # distance of each matched pair, px

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        present = self.true_positives + self.false_negatives
        return self.true_positives / present if present else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def mean_offset(self) -> float:
        return float(np.mean(self.offsets)) if self.offsets else float("nan")

    def add(self, other: PointScore) -> PointScore:
        """Pool counts over images (micro average)."""
        return PointScore(self.true_positives + other.true_positives, self.false_positives + other.false_positives,
                          self.false_negatives + other.false_negatives, self.offsets + other.offsets)

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "false_negatives": self.false_negatives, "mean_offset_px": round(self.mean_offset, 3)}


def match_points(found: np.ndarray, truth: np.ndarray, radius: float) -> PointScore:
    """Score (N, 2) detections against (M, 2) true points (both x, y or both row, col)."""
    found = np.asarray(found, float).reshape(-1, 2)
    truth = np.asarray(truth, float).reshape(-1, 2)
    if len(found) == 0 or len(truth) == 0:
        return PointScore(0, len(found), len(truth))
    distance = np.linalg.norm(found[:, None, :] - truth[None, :, :], axis=2)
    cost = np.where(distance <= radius, distance, 1e6)
    rows, cols = linear_sum_assignment(cost)
    matched = distance[rows, cols] <= radius
    tp = int(matched.sum())
    return PointScore(tp, len(found) - tp, len(truth) - tp, distance[rows, cols][matched].tolist())


def score_images(found: list[np.ndarray], truth: list[np.ndarray], radius: float) -> PointScore:
    """Pooled score over many images."""
    total = PointScore()
    for f, t in zip(found, truth, strict=True):
        total = total.add(match_points(f, t, radius))
    return total
