"""Layers -> a training folder on disk, in the layout `img2img train` reads.

Training holds out whole images for validation, and a biologist often has one big annotated
image: each plane is cut into a grid of pieces (each at least one patch) so there are images
to hold out. The folder is kept beside the checkpoints, so the run can be repeated from the CLI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.data.pieces import grid_pieces  # the library's grid, also used to hold back validation pieces
from img2img.errors import UserError
from img2img.io.images import write_image


def planes_of(data: np.ndarray, rgb: bool) -> list[np.ndarray]:
    """The 2D (or Y, X, C) planes of a layer's data, leading stack axes flattened."""
    data = np.asarray(data)
    spatial = 3 if rgb else 2
    if data.ndim < spatial:
        raise UserError(f"a layer of shape {data.shape} has no Y and X axes to train on")
    return list(data.reshape((-1,) + data.shape[data.ndim - spatial:]))


def write_pieces(planes: list[np.ndarray], folder: Path, patch: int, name: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for p, plane in enumerate(planes):
        if min(plane.shape[:2]) < patch:
            raise UserError(
                f"layer '{name}': planes of {plane.shape[0]} x {plane.shape[1]} px are smaller than the "
                f"{patch} px patch size; lower the patch size"
            )
        for k, piece in enumerate(grid_pieces(plane, patch)):
            write_image(folder / f"plane{p:04d}_piece{k}.tif", piece, "YXC" if piece.ndim == 3 else "YX")
            count += 1
    return count


def write_paired(inputs, targets, folder: Path, patch: int) -> dict:
    """Input planes and their targets (labels or images) -> images/ and targets/; config keys."""
    (x_data, x_rgb, x_name), (y_data, y_rgb, y_name) = inputs, targets
    xs, ys = planes_of(x_data, x_rgb), planes_of(y_data, y_rgb)
    if len(xs) != len(ys) or xs[0].shape[:2] != ys[0].shape[:2]:
        raise UserError(
            f"layers '{x_name}' {np.shape(x_data)} and '{y_name}' {np.shape(y_data)} do not cover the same pixels; "
            "the target must have the input's planes, height and width"
        )
    n = write_pieces(xs, folder / "images", patch, x_name)
    write_pieces(ys, folder / "targets", patch, y_name)
    if n < 2:
        raise UserError(
            f"layer '{x_name}' gives one training image; training holds one out for validation, so give a "
            f"layer at least twice the patch size ({2 * patch} px) along one side, or lower the patch size"
        )
    return {"input_dir": str(folder / "images"), "target_dir": str(folder / "targets")}


def write_unpaired(a, b, folder: Path, patch: int) -> dict:
    """Two unmatched sets of planes -> a/ and b/; config keys for CycleGAN."""
    for (data, rgb, name), sub in ((a, "a"), (b, "b")):
        write_pieces(planes_of(data, rgb), folder / sub, patch, name)
    return {"a_dir": str(folder / "a"), "b_dir": str(folder / "b")}


def write_single(images, folder: Path, patch: int) -> dict:
    """Clean images alone (super-resolution, inpainting, colorization) -> images/; config keys."""
    data, rgb, name = images
    if write_pieces(planes_of(data, rgb), folder / "images", patch, name) < 2:
        raise UserError(
            f"layer '{name}' gives one training image; training holds one out for validation, so give a "
            f"layer at least twice the patch size ({2 * patch} px) along one side, or lower the patch size"
        )
    return {"image_dir": str(folder / "images")}
