"""Validation from a piece of each training image, for one annotated image (or `val_fraction: 0`).

A biologist often has a single annotated image, and holding out whole images is then impossible.
The image is cut on a grid of up to 3 x 3 cells, each at least one patch per side; one corner
cell is held back for validation and the rest of the image (two rectangles, so training crops
may still span cell borders) is trained on. No validation pixel is ever a training pixel.
The napari Train widget cuts layers with the same grid (`grid_pieces`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from img2img.data.loading import TrainingPair

MAX_GRID = 3  # cells per side
Window = tuple[slice, slice]


def grid_windows(shape: tuple[int, ...], patch: int) -> list[Window]:
    """Row-major (rows, cols) windows of up to 3 x 3 cells covering a plane of `shape` (H, W, ...),
    each at least `patch` pixels per side where the plane is that large."""
    ys, xs = _edges(shape[0], patch), _edges(shape[1], patch)
    return [(slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1])) for i in range(len(ys) - 1) for j in range(len(xs) - 1)]


def grid_pieces(plane: np.ndarray, patch: int) -> list[np.ndarray]:
    """Cut a (H, W) or (H, W, C) plane into up to 3 x 3 pieces that are each at least `patch` pixels per side."""
    return [plane[window] for window in grid_windows(plane.shape, patch)]


def corner_split(shape: tuple[int, ...], patch: int, corner: int) -> tuple[Window, list[Window]] | None:
    """The window of a corner cell (`corner` 0..3: top-left, top-right, bottom-left, bottom-right)
    and one or two rectangles covering the rest of the plane; None for a plane of one cell."""
    ys, xs = _edges(shape[0], patch), _edges(shape[1], patch)
    if len(ys) == 2 and len(xs) == 2:
        return None
    rows, other_rows = _end_cell(ys, last=corner >= 2)
    cols, other_cols = _end_cell(xs, last=corner % 2 == 1)
    rest = [(other_rows, slice(0, int(shape[1]))), (rows, other_cols)]
    return (rows, cols), [w for w in rest if all(s.stop > s.start for s in w)]


def hold_back_piece(pair: TrainingPair, patch: int, corner: int) -> tuple[list[TrainingPair], TrainingPair] | None:
    """(training rectangles, validation piece) of one loaded pair; None where it is one cell."""
    split = corner_split(pair.input.shape[1:], patch, corner)
    if split is None:
        return None
    held, rest = split
    return [crop_pair(pair, w, f"{pair.name}_train{k}") for k, w in enumerate(rest)], crop_pair(pair, held, f"{pair.name}_val")


def crop_pair(pair: TrainingPair, window: Window, name: str) -> TrainingPair:
    """A copy of one window of a (C, H, W) pair, labels included (the whole image can then be freed)."""
    def cut(a: np.ndarray | None, leading: tuple = (slice(None),)) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(a[(*leading, *window)])

    return replace(pair, name=name, input=cut(pair.input), target=cut(pair.target), labels=cut(pair.labels, ()))


def _edges(n: int, patch: int) -> list[int]:
    cells = int(np.clip(n // patch, 1, MAX_GRID))
    return [int(e) for e in np.linspace(0, n, cells + 1).astype(int)]


def _end_cell(edges: list[int], last: bool) -> tuple[slice, slice]:
    """The first or last cell along one axis, and the rest of that axis (empty for one cell)."""
    if last:
        return slice(edges[-2], edges[-1]), slice(0, edges[-2])
    return slice(0, edges[1]), slice(edges[1], edges[-1])
