"""Score a segmentation model and a classical baseline on the same held-out pairs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.progress import track

from img2img.data.pairing import pair_files
from img2img.errors import UserError
from img2img.evaluation.baselines import BASELINES, default_baseline
from img2img.evaluation.segmentation_metrics import aggregate_scores, segmentation_scores
from img2img.inference.predictor import Predictor
from img2img.io.images import read_image, read_labels

METRICS = ("pixel_iou", "dice", "precision", "recall", "f1")


@dataclass
class Example:
    name: str
    image: np.ndarray  # (H, W) or (H, W, C) raw pixels
    prediction: np.ndarray
    baseline: np.ndarray
    truth: np.ndarray


@dataclass
class Evaluation:
    baseline_name: str
    per_image: list[dict] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        return {
            method: aggregate_scores([row[method] for row in self.per_image]) for method in ("model", "baseline")
        }

    def to_json(self) -> dict:
        return {"baseline": self.baseline_name, "iou_threshold": 0.5, "summary": self.summary, "per_image": self.per_image}


def evaluate_segmentation(
    predictor: Predictor, input_dir: Path, target_dir: Path, baseline: str | None = None,
    pattern: str = "*", n_examples: int = 3, progress: bool = True,
) -> Evaluation:
    pairs = pair_files(Path(input_dir), Path(target_dir), pattern)
    baseline = baseline or default_baseline(predictor.in_channels)
    if baseline not in BASELINES:
        raise UserError(f"unknown baseline '{baseline}'; choose from {sorted(BASELINES)}")
    result = Evaluation(baseline_name=baseline)
    for image_path, mask_path in track(pairs, description="evaluating", disable=not progress):
        image = read_image(image_path)
        truth = read_labels(mask_path)
        pixels = _as_2d(image.data, image.axes, image_path)
        if truth.shape != pixels.shape[:2]:
            raise UserError(f"{mask_path}: mask is {truth.shape} but {image_path.name} is {pixels.shape[:2]}; masks must match their images")
        prediction = predictor.predict(pixels, "YXC" if pixels.ndim == 3 else "YX")
        classical = BASELINES[baseline](pixels)
        result.per_image.append({
            "name": image_path.stem,
            "model": segmentation_scores(prediction, truth),
            "baseline": segmentation_scores(classical, truth),
        })
        if len(result.examples) < n_examples:
            result.examples.append(Example(image_path.stem, pixels, prediction, classical, truth))
    return result


def _as_2d(data: np.ndarray, axes: str, path: Path) -> np.ndarray:
    """Evaluation compares 2D label images: (H, W) or (H, W, C)."""
    if any(a not in "CYX" for a in axes):
        raise UserError(f"{path}: evaluation takes 2D images, got axes '{axes}'")
    order = [axes.index(a) for a in "YXC" if a in axes]
    return np.transpose(data, order)
