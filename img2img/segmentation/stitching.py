"""3D objects from plane-by-plane segmentation: labels unique through a stack, and instances of
neighbouring planes joined by overlap.

A 2D segmenter run on a Z stack numbers every plane from 1, so the same number means different
nuclei on different planes and no object spans planes. Here each plane's objects get ids unique
in their volume, and, with a threshold, an object takes the id of the object on the plane below
that it overlaps best, when their IoU reaches the threshold and no other object of its plane
overlaps that one better (each object continues at most one). This is cellpose's
`stitch_threshold` (Stringer et al. 2021, `stitch3D`); the plane below has already been stitched,
so an object continues through any number of planes.

Planes arrive one at a time (`Stitcher.add`), in the order `io.axes.to_planes` numbers them, so a
stack written plane by plane (OME-Zarr) is stitched as it is made, holding one plane per volume.
Volumes are the stack's planes with the same index on every other plane axis: the Z planes of one
time point form one volume (a time series is not stitched over time unless asked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from scipy import ndimage

from img2img.errors import UserError

# IoU a plane's object must reach with one on the plane below to continue it (cellpose's examples
# use 0.25-0.5). On generated stacks with the builtin model (benchmarks/stitching_3d.py), a layer of
# touching nuclei scored 3D F1 0.993 / 0.979 / 0.940 / 0.889 at 0.1 / 0.25 / 0.4 / 0.5 and tissue
# with nuclei above each other 0.745 / 0.770 / 0.795 / 0.814: 0.25 is near the best of the first
# and not the worst of the second; see docs/usage.md, "3D objects from Z stacks".
DEFAULT_THRESHOLD = 0.25


def parse_stitch(value) -> float | str | None:
    """`--stitch`: 'auto' (Z stacks at the default threshold), 'off' (unique ids, no joining),
    or an IoU threshold in (0, 1] (along Z, or along T for a time series without Z)."""
    if value is None or value == "auto":
        return "auto"
    if isinstance(value, str) and value.lower() in ("off", "no", "none", "0"):
        return "off"
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        raise UserError(f"--stitch {value}: use auto, off, or an IoU threshold between 0 and 1 (e.g. 0.25)") from None
    if threshold == 0:
        return "off"
    if not 0 < threshold <= 1:
        raise UserError(f"--stitch {value}: the IoU threshold must be between 0 and 1")
    return threshold


def stitch_axis(stitch: float | str, plane_axes: str) -> tuple[str | None, float | None]:
    """(axis planes are linked along, IoU threshold or None for unique ids only) for a stack with
    `plane_axes` (e.g. 'Z', 'TZ', 'T')."""
    if "Z" in plane_axes:
        if stitch == "off":
            return "Z", None
        return "Z", DEFAULT_THRESHOLD if stitch == "auto" else float(stitch)
    if "T" in plane_axes and stitch not in ("auto", "off"):
        return "T", float(stitch)
    return None, None


class Stitcher:
    """Relabels planes of a stack as they come (`add(k, labels)`): ids unique within each volume
    (the planes along `axis` at one position of the other plane axes), joined by overlap when a
    `threshold` is given. Without an `axis` planes pass unchanged."""

    def __init__(self, plane_axes: str, plane_shape: tuple[int, ...], axis: str | None, threshold: float | None):
        self.plane_axes, self.plane_shape = plane_axes, tuple(plane_shape)
        self.axis, self.threshold = axis, threshold
        self._previous: dict[tuple, np.ndarray] = {}  # volume -> stitched labels of its last plane
        self._count: dict[tuple, int] = {}  # volume -> ids used so far

    def add(self, k: int, labels: np.ndarray) -> np.ndarray:
        if self.axis is None:
            return labels
        position = dict(zip(self.plane_axes, np.unravel_index(k, self.plane_shape)))
        volume = tuple(int(i) for a, i in position.items() if a != self.axis)
        if int(position[self.axis]) == 0:
            self._previous.pop(volume, None)
            self._count[volume] = 0
        below = self._previous.get(volume)
        count = self._count.get(volume, 0)
        out, count = relabel_onto(labels, below, count, self.threshold)
        self._previous[volume], self._count[volume] = out, count
        return out

    def stream(self, planes: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for k, labels in enumerate(planes):
            yield self.add(k, labels)


def relabel_onto(labels: np.ndarray, below: np.ndarray | None, count: int,
                 threshold: float | None) -> tuple[np.ndarray, int]:
    """`labels` (one plane, 0 = background) with ids continuing `below`'s objects where they
    overlap enough, new ids from `count + 1` otherwise; returns them and the new count."""
    if threshold is not None and below is not None and below.any() and labels.any():
        labels = split_merged(labels, below)
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if not len(ids):
        return np.zeros(labels.shape, _dtype(count)), count
    new_ids = np.zeros(len(ids), np.int64)
    if threshold is not None and below is not None and below.any():
        current, previous = _best_continuations(labels, below, ids, threshold)
        new_ids[current] = previous
    fresh = new_ids == 0
    new_ids[fresh] = count + 1 + np.arange(int(fresh.sum()))
    count += int(fresh.sum())
    lookup = np.zeros(int(ids.max()) + 1, _dtype(count))
    lookup[ids] = new_ids
    return lookup[labels], count


# An object of this plane covering at least this share of each of two or more objects below is
# taken for their merge (the 2D segmenter did not see the seam on this plane) and split between them.
SPLIT_COVER = 0.5
# Two objects of neighbouring planes that no better pair claims, the smaller lying this much inside
# the larger, are one object narrowing to its end (a pole), not two.
CONTAINED = 0.8


def split_merged(labels: np.ndarray, below: np.ndarray) -> np.ndarray:
    """`labels` with each object that covers most of two or more objects below split between
    them: each of its pixels goes to the nearest of those objects (as the plane below has them)."""
    table = _overlaps(labels, below)
    if table is None:
        return labels
    cur_ids, prev_ids, cur, prv, overlap, _, prev_areas = table
    covers = overlap >= SPLIT_COVER * prev_areas[prv]
    counts = np.bincount(cur[covers], minlength=len(cur_ids))
    merged = np.flatnonzero(counts >= 2)
    if not len(merged):
        return labels
    out = labels.astype(np.int64, copy=True)
    next_id = int(cur_ids.max()) + 1
    boxes = ndimage.find_objects(out)
    for c in merged:
        cid = int(cur_ids[c])
        box = boxes[cid - 1]
        parts = prev_ids[prv[covers & (cur == c)]]
        pad = tuple(slice(max(s.start - 2, 0), s.stop + 2) for s in box)
        mine = out[pad] == cid
        seeds = np.isin(below[pad], parts)
        if not seeds.any():
            continue
        _, index = ndimage.distance_transform_edt(~seeds, return_indices=True)
        nearest = below[pad][tuple(index)]
        for k, part in enumerate(parts):
            if k:  # the first part keeps the object's id
                out[pad][mine & (nearest == part)] = next_id
                next_id += 1
    return out


def _overlaps(labels: np.ndarray, below: np.ndarray):
    """(ids here, ids below, pair index here, pair index below, pixels shared, areas here, areas
    below) of every overlapping pair; None when nothing overlaps."""
    both = (labels > 0) & (below > 0)
    if not both.any():
        return None
    cur_ids, cur_areas = np.unique(labels[labels > 0], return_counts=True)
    prev_ids, prev_areas = np.unique(below[below > 0], return_counts=True)
    cur_index = np.searchsorted(cur_ids, labels[both])
    prev_index = np.searchsorted(prev_ids, below[both])
    codes, overlap = np.unique(cur_index.astype(np.int64) * len(prev_ids) + prev_index, return_counts=True)
    cur, prv = np.divmod(codes, len(prev_ids))
    return cur_ids, prev_ids, cur, prv, overlap, cur_areas, prev_areas


def _best_continuations(labels: np.ndarray, below: np.ndarray, ids: np.ndarray,
                        threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices into `ids`, ids of `below` they continue): pairs with IoU >= threshold, the best
    first, each object of either plane taken once (cellpose keeps, for each object below, only
    its best match on this plane); then pairs where the smaller object lies inside the larger
    (an object's narrowing end) among those left."""
    table = _overlaps(labels, below)
    if table is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cur_ids, prev_ids, cur, prv, overlap, cur_areas, prev_areas = table
    iou = overlap / (cur_areas[cur] + prev_areas[prv] - overlap)
    inside = overlap / np.minimum(cur_areas[cur], prev_areas[prv])
    used_cur, used_prev = set(), set()
    chosen_cur, chosen_prev = [], []

    def take_greedily(score: np.ndarray, at_least: float) -> None:
        """Best-scoring pairs first, each object joined at most once."""
        for j in np.argsort(-score, kind="stable"):
            c, p = int(cur[j]), int(prv[j])
            if score[j] < at_least:
                break
            if c in used_cur or p in used_prev:
                continue
            used_cur.add(c)
            used_prev.add(p)
            chosen_cur.append(c)
            chosen_prev.append(p)

    take_greedily(iou, threshold)
    take_greedily(inside, CONTAINED)
    positions = np.searchsorted(ids, cur_ids[np.asarray(chosen_cur, np.int64)])
    return positions.astype(np.int64), prev_ids[np.asarray(chosen_prev, np.int64)].astype(np.int64)


def _dtype(count: int) -> np.dtype:
    return np.dtype(np.uint16) if count <= np.iinfo(np.uint16).max else np.dtype(np.uint32)


def stitch_volume(labels: np.ndarray, threshold: float | None = DEFAULT_THRESHOLD) -> np.ndarray:
    """A (Z, Y, X) stack of plane-wise labels as 3D objects (ids unique through the stack)."""
    stitcher = Stitcher("Z", (len(labels),), "Z", threshold)
    planes = [stitcher.add(k, plane) for k, plane in enumerate(labels)]
    dtype = max((p.dtype for p in planes), key=lambda d: d.itemsize)
    return np.stack([p.astype(dtype, copy=False) for p in planes])


def label_dtype_for(planes: int, first_count: int) -> np.dtype:
    """Label type of a store made before all planes are known: uint16 while twice the first
    plane's objects on every plane would fit, else uint32."""
    return _dtype(2 * max(first_count, 1) * max(planes, 1)) if planes > 1 else np.dtype(np.uint16)


def volume_planes(plane_axes: str, plane_shape: tuple[int, ...], axis: str | None) -> int:
    """Planes of one volume: the stack's size along `axis` (1 without stitching)."""
    return int(plane_shape[plane_axes.index(axis)]) if axis and axis in plane_axes else 1
