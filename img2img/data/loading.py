"""Turning a file pair into network-ready arrays: (C, H, W) float inputs in about [-1, 1]
and targets in [-1, 1]: the segmentation encoding of a label mask, or a normalized image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from img2img.config.schema import TrainConfig
from img2img.errors import UserError
from img2img.io.axes import to_planes
from img2img.io.channels import adapt_channels
from img2img.io.images import read_image, read_labels
from img2img.io.normalization import Normalization
from img2img.segmentation.encoding import labels_to_target
from img2img.segmentation.object_size import median_diameter, resize_labels, resize_planes, scale_for, scaled_shape


@dataclass
class TrainingPair:
    name: str
    input: np.ndarray  # (C, H, W) float32, normalized
    target: np.ndarray  # (C_out, H, W) float32 in [-1, 1]
    labels: np.ndarray | None  # (H, W) instance labels for segmentation metrics; None for translation
    input_dtype: str
    target_dtype: str | None = None  # translation: the target image's pixel type


def read_input_2d(path: Path) -> tuple[np.ndarray, str]:
    """One 2D image as (C, H, W) raw pixels; training takes single planes, not stacks."""
    image = read_image(path)
    planes, plane_axes = to_planes(image.data, image.axes)
    if planes.shape[0] != 1:
        raise UserError(
            f"{path}: training takes 2D images (one plane), got axes '{image.axes}' with shape "
            f"{image.data.shape}; save single planes"
        )
    return planes[0], str(image.data.dtype)


def load_segmentation_pair(input_path: Path, target_path: Path, normalization: Normalization,
                           input_channels: str = "as_stored", object_diameter: float | None = None,
                           encoding: str = "distance") -> TrainingPair:
    """An image and its label mask; with `object_diameter`, both rescaled so that the median
    object of the mask is that many pixels wide."""
    raw, dtype = read_input_2d(input_path)
    raw = adapt_channels(raw, input_channels)
    labels = read_labels(target_path)
    if labels.shape != raw.shape[1:]:
        raise UserError(
            f"{target_path}: mask is {labels.shape[0]}x{labels.shape[1]} but its image {input_path.name} is "
            f"{raw.shape[1]}x{raw.shape[2]}; masks must match their images pixel for pixel"
        )
    if object_diameter is not None:
        shape = scaled_shape(labels.shape, scale_for(median_diameter(labels), object_diameter))
        raw, labels = resize_planes(raw, shape), resize_labels(labels, shape)
    target = labels_to_target(labels, encoding) * 2.0 - 1.0
    return TrainingPair(input_path.stem, normalization.normalize(raw), target.astype(np.float32), labels, dtype)


def read_image_pair(input_path: Path, target_path: Path) -> tuple[tuple[np.ndarray, str], tuple[np.ndarray, str]]:
    """Raw (C, H, W) input and target planes with their pixel types; sizes must match."""
    raw, dtype = read_input_2d(input_path)
    target_raw, target_dtype = read_input_2d(target_path)
    if target_raw.shape[1:] != raw.shape[1:]:
        raise UserError(
            f"{target_path}: target is {target_raw.shape[1]}x{target_raw.shape[2]} but its input {input_path.name} is "
            f"{raw.shape[1]}x{raw.shape[2]}; targets must match their inputs pixel for pixel"
        )
    return (raw, dtype), (target_raw, target_dtype)


def load_translation_pair(
    input_path: Path, target_path: Path, normalization: Normalization, target_normalization: Normalization
) -> TrainingPair:
    """An image -> image pair. The target is clipped to [-1, 1]: a tanh output cannot go beyond,
    and L1 towards unreachable values would only bias the rest of the image."""
    (raw, dtype), (target_raw, target_dtype) = read_image_pair(input_path, target_path)
    target = np.clip(target_normalization.normalize(target_raw), -1.0, 1.0)
    return TrainingPair(input_path.stem, normalization.normalize(raw), target, None, dtype, target_dtype)


def load_pair(input_path: Path, target_path: Path, config: TrainConfig) -> TrainingPair:
    """The loader the task asks for."""
    if config.task == "translation":
        return load_translation_pair(input_path, target_path, config.normalization, config.target_norm)
    return load_segmentation_pair(input_path, target_path, config.normalization, config.input_channels,
                                  config.segmentation.object_diameter, config.segmentation.encoding)


def check_targets(pairs: list[TrainingPair], paths: list[Path]) -> tuple[int, str | None]:
    """All targets must share a channel count (to batch them) and pixel type; return them."""
    return _check_uniform([(p.target.shape[0], p.target_dtype) for p in pairs], paths, "targets")


def check_consistent(pairs: list[TrainingPair], paths: list[Path]) -> tuple[int, str]:
    """All inputs must share a channel count and pixel type; return them."""
    return _check_uniform([(p.input.shape[0], p.input_dtype) for p in pairs], paths, "inputs")


def _check_uniform(facts: list[tuple[int, str | None]], paths: list[Path], what: str) -> tuple[int, str | None]:
    channels, dtype = facts[0]
    for (n, kind), path in zip(facts, paths):
        if n != channels:
            raise UserError(f"{path}: has {n} channels but {paths[0].name} has {channels}; all {what} need the same")
        if kind != dtype:
            raise UserError(f"{path}: pixel type {kind} differs from {paths[0].name} ({dtype}); convert the folder to one type")
    return channels, dtype
