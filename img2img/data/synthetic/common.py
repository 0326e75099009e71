"""Helpers shared by the synthetic generators: image size, label clean-up, and the output
folder check and progress bar of the writers (writer.py, larvae.py, photos.py, zebrafish/)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage import measure
from skimage.segmentation import relabel_sequential

from img2img.errors import UserError

MIN_SIDE, MAX_SIDE = 256, 1024  # range of random sizes
SMALLEST_SIDE = 32  # below this, objects 12-40 px across no longer fit


def pick_size(rng: np.random.Generator, size: tuple[int, int] | None) -> tuple[int, int]:
    """The requested (H, W), or each side drawn independently in 256..1024."""
    if size is None:
        return int(rng.integers(MIN_SIDE, MAX_SIDE + 1)), int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    h, w = (int(s) for s in size)
    if min(h, w) < SMALLEST_SIDE:
        raise ValueError(f"synthetic images need sides of at least {SMALLEST_SIDE} px, got {size}")
    return h, w


def tidy_labels(labels: np.ndarray, min_area: int = 0) -> np.ndarray:
    """Make every instance one 4-connected piece and number them 1..N.

    Occlusion (z-order painting) can cut an object into pieces or leave only a sliver
    of it. A piece that is not its object's largest one, or a whole object smaller than
    `min_area`, goes to the neighbouring object it touches most: that neighbour is what
    covers it, and a 4-adjacent piece keeps the neighbour connected. Pieces with no
    neighbour become background. Returns a new uint16 array.
    """
    out = labels.astype(np.int32, copy=True)
    while True:
        stray = _stray_pieces(out, min_area)
        if not stray:
            break
        for piece_mask, box in stray:
            _give_to_neighbour(out[box], piece_mask)
    relabelled, _, _ = relabel_sequential(out)
    return relabelled.astype(np.uint16)


def _stray_pieces(labels: np.ndarray, min_area: int) -> list[tuple[np.ndarray, tuple[slice, ...]]]:
    """(mask, box) of each piece to hand over, found with one labelling of the whole frame."""
    pieces, n = measure.label(labels, background=0, connectivity=1, return_num=True)
    if n == 0:
        return []
    flat = pieces.ravel()
    owner = np.zeros(n + 1, np.int64)
    owner[flat] = labels.ravel()
    sizes = np.bincount(flat, minlength=n + 1)
    area = np.bincount(owner[1:], weights=sizes[1:], minlength=owner.max() + 1)
    by_size = np.argsort(-sizes[1:], kind="stable") + 1
    _, first = np.unique(owner[by_size], return_index=True)
    largest = np.zeros(n + 1, bool)
    largest[by_size[first]] = True
    stray = np.flatnonzero(~largest[1:] | (area[owner[1:]] < min_area)) + 1
    boxes = ndimage.find_objects(pieces)
    found = []
    for piece in stray:
        box = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in boxes[piece - 1])
        found.append((pieces[box] == piece, box))
    return found


def _give_to_neighbour(patch: np.ndarray, piece: np.ndarray) -> None:
    """Paint `piece` with the label sharing the longest 4-connected border with it (0 if none)."""
    own = patch[piece][0]
    ring = ndimage.binary_dilation(piece) & ~piece
    around = patch[ring]
    around = around[(around != 0) & (around != own)]
    patch[piece] = np.bincount(around).argmax() if around.size else 0


def check_empty(folder: Path) -> None:
    if folder.is_dir() and any(folder.iterdir()):
        raise UserError(f"{folder} already contains files; choose a new output folder or empty this one first")


def maybe_track(items: Iterable[int], description: str, progress: bool) -> Iterable[int]:
    if not progress:
        return items
    from rich.progress import track

    return track(items, description=description)
