"""Score a segmentation model and a classical baseline on the same held-out pairs: 2D images, or Z
stacks scored as 3D label volumes (3D IoU matching), the model's planes stitched into 3D objects
as `infer` makes them and the baseline's planes stitched the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from rich.progress import track

from img2img.data.pairing import pair_files
from img2img.errors import UserError
from img2img.evaluation.baselines import BASELINES, default_baseline, otsu_watershed
from img2img.segmentation.metrics import (
    IOU_THRESHOLDS, aggregate_by_group, aggregate_scores, segmentation_scores,
)
from img2img.inference.predictor import Predictor
from img2img.io.images import read_image, read_labels
from img2img.segmentation.blockwise import stack_labels
from img2img.segmentation.stitching import Stitcher, stitch_axis

METRICS = ("pixel_iou", "dice", "precision", "recall", "f1")
METHODS = ("model", "baseline")
OTHER_GROUP = "other"  # images the groups table does not list
# --objects: what otsu_watershed's bright_objects gets.
OBJECTS = {"bright": True, "dark": False, "auto": "auto"}


@dataclass
class Example:
    name: str
    image: np.ndarray  # (H, W) or (H, W, C) raw pixels
    prediction: np.ndarray
    baseline: np.ndarray
    truth: np.ndarray
    row: dict = field(default_factory=dict)  # the image's row in per_image: name, group, scores


@dataclass
class Evaluation:
    baseline_name: str
    per_image: list[dict] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    objects: str = "auto"  # otsu_watershed's object polarity: bright, dark or auto
    groups: Mapping[str, str] | None = None  # {image name: group}, e.g. imaging modality

    @property
    def summary(self) -> dict:
        return {method: aggregate_scores([row[method] for row in self.per_image]) for method in METHODS}

    @property
    def by_group(self) -> dict[str, dict] | None:
        """{group: {"model": scores, "baseline": scores}} when groups were given."""
        if self.groups is None:
            return None
        scores = {}
        for method in METHODS:
            rows = [{"name": r["name"], **r[method]} for r in self.per_image]
            scores[method] = aggregate_by_group(rows, self.groups, OTHER_GROUP)
        return {group: {method: scores[method][group] for method in METHODS} for group in scores["model"]}

    def to_json(self) -> dict:
        return {
            "baseline": self.baseline_name, "objects": self.objects, "iou_threshold": 0.5,
            "iou_thresholds": list(IOU_THRESHOLDS), "summary": self.summary,
            **({"by_group": self.by_group} if self.groups is not None else {}),
            "per_image": self.per_image,
        }


def evaluate_segmentation(
    predictor: Predictor, input_dir: Path, target_dir: Path, baseline: str | None = None,
    pattern: str = "*", n_examples: int = 8, progress: bool = True, objects: str = "auto",
    groups: Mapping[str, str] | None = None,
) -> Evaluation:
    """Score every image pair; `examples` holds up to `n_examples` images spread over the range of
    model F1 (worst first). `objects` (bright, dark, auto) is for the otsu_watershed baseline;
    `groups` ({image name: group}) adds per-group scores, unlisted images in group "other"."""
    pairs = {image.stem: (image, mask) for image, mask in pair_files(Path(input_dir), Path(target_dir), pattern)}
    baseline = baseline or default_baseline(predictor.in_channels, predictor.config.input_channels)
    if baseline not in BASELINES:
        raise UserError(f"unknown baseline '{baseline}'; choose from {sorted(BASELINES)}")
    if objects not in OBJECTS:
        raise UserError(f"--objects {objects}: use bright, dark or auto")
    if groups is not None and not set(groups) & set(pairs):
        raise UserError(f"groups: none of the {len(groups)} names given is an image in {input_dir}; "
                        "name images by file name without suffix")
    classical = BASELINES[baseline]
    if baseline == "otsu_watershed":
        classical = partial(otsu_watershed, bright_objects=OBJECTS[objects])
    result = Evaluation(baseline_name=baseline, objects=objects, groups=groups)
    kept = {}  # every image is shown when there are few: keep them rather than segment them twice
    for name, paths in track(pairs.items(), description="evaluating", disable=not progress):
        segmented = _segment(predictor, classical, *paths)
        pixels, prediction, from_baseline, truth = segmented
        result.per_image.append({
            "name": name,
            "group": None if groups is None else groups.get(name, OTHER_GROUP),
            "model": segmentation_scores(prediction, truth),
            "baseline": segmentation_scores(from_baseline, truth),
        })
        if len(pairs) <= n_examples:
            kept[name] = segmented
    for row in spread_by_f1(result.per_image, n_examples):
        segmented = kept.pop(row["name"], None) or _segment(predictor, classical, *pairs[row["name"]])
        result.examples.append(Example(row["name"], *example_plane(segmented), row=row))
    return result


def spread_by_f1(per_image: list[dict], n: int) -> list[dict]:
    """Up to `n` rows spread evenly over the range of model F1: the worst, the best and between."""
    ranked = sorted(per_image, key=lambda row: (row["model"]["f1"], row["name"]))
    picks = np.unique(np.linspace(0, len(ranked) - 1, min(n, len(ranked))).round().astype(int)) if ranked else []
    return [ranked[k] for k in picks]


def _segment(predictor: Predictor, classical, image_path: Path, mask_path: Path) -> tuple[np.ndarray, ...]:
    """(pixels as YX or YXC, model labels, baseline labels, true labels) of one pair; of a Z stack
    (ZYX, ZCYX, ...) the labels are 3D volumes, scored with 3D IoU, and the figure shows the
    middle plane (`example_plane`)."""
    image = read_image(image_path)
    stack = "Z" in image.axes
    truth = read_labels(mask_path, ndim=3 if stack else 2)
    pixels = _as_stack(image.data, image.axes, image_path) if stack else _as_2d(image.data, image.axes, image_path)
    if truth.shape != pixels.shape[: truth.ndim]:
        raise UserError(f"{mask_path}: mask is {truth.shape} but {image_path.name} is {pixels.shape[:truth.ndim]}; masks must match their images")
    # The image with its own axes, as `infer` gives it, so the predictor's channel handling applies.
    prediction = predictor.predict(image.data, image.axes)
    if stack:  # the baseline plane by plane, made 3D the way the model's planes are
        axis, threshold = stitch_axis(predictor.stitch, "Z")
        baseline = Stitcher("Z", (len(pixels),), axis, threshold)
        from_baseline = stack_labels(baseline.stream(classical(plane) for plane in pixels), truth.shape)
        return pixels, prediction, from_baseline, truth
    return pixels, prediction, classical(pixels), truth


def example_plane(segmented: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """What the figure shows of one pair: itself, or the middle plane of a stack."""
    pixels, prediction, baseline, truth = segmented
    if truth.ndim == 2:
        return segmented
    z = len(truth) // 2
    return pixels[z], prediction[z], baseline[z], truth[z]


def _as_stack(data: np.ndarray, axes: str, path: Path) -> np.ndarray:
    """A Z stack as (Z, H, W) or (Z, H, W, C); other plane axes (time) are refused."""
    if any(a not in "ZCYX" for a in axes):
        raise UserError(f"{path}: evaluation takes 2D images or Z stacks, got axes '{axes}'")
    order = [axes.index(a) for a in "ZYXC" if a in axes]
    return np.transpose(data, order)


def _as_2d(data: np.ndarray, axes: str, path: Path) -> np.ndarray:
    """Evaluation compares 2D label images: (H, W) or (H, W, C)."""
    if any(a not in "CYX" for a in axes):
        raise UserError(f"{path}: evaluation takes 2D images or Z stacks, got axes '{axes}'")
    order = [axes.index(a) for a in "YXC" if a in axes]
    return np.transpose(data, order)
