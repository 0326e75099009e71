"""`resize_planes` a few rows at a time, for planes too large to resize whole.

A segmenter trained at an object size sees each plane rescaled (`object_size.resize_planes`): a
16k x 16k gray plane at scale 1.5 is 7 GB of float32 as three channels, and its maps 5 GB more.
Here the network's input is resized where the tiles read it (`ResizedPlane`) and its maps are
resized back as their bands arrive (`resize_bands`), so neither exists whole.

OpenCV cannot resize part of a plane the way it resizes all of it: it places a crop's samples
relative to the crop. So columns are resized by OpenCV over full-width rows (rows unchanged,
exactly its own first pass), and rows by explicit weights built as OpenCV builds them (bilinear
when enlarging, area when shrinking). Results match `resize_planes` to float rounding (1e-6).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
from scipy import sparse

_CHUNK_ROWS = 256  # output rows computed at once for a strided read


def row_weights(source: int, target: int, shrink: bool) -> sparse.csr_matrix:
    """(target, source) float32 weights of OpenCV's INTER_AREA (`shrink`) or INTER_LINEAR along one axis."""
    scale = 1.0 / (target / source)  # as OpenCV computes it
    rows, cols, values = [], [], []
    for d in range(target):
        for s, w in (_area(d, scale, source) if shrink else _linear(d, scale, source)):
            if w != 0.0:
                rows.append(d), cols.append(s), values.append(w)
    weights = sparse.csr_matrix((np.array(values, np.float32), (rows, cols)), shape=(target, source), dtype=np.float32)
    weights.sort_indices()
    return weights


def _linear(d: int, scale: float, size: int) -> list[tuple[int, float]]:
    f = (d + 0.5) * scale - 0.5  # in double, as OpenCV does; the weights are then float32
    s = int(np.floor(f))
    f -= s
    if s < 0:
        s, f = 0, 0.0
    if s >= size - 1:
        s, f = size - 1, 0.0
    return [(s, float(np.float32(1.0 - f))), (s + 1, float(np.float32(f)))]


def _area(d: int, scale: float, size: int) -> list[tuple[int, float]]:
    fs1 = d * scale
    fs2 = fs1 + scale
    cell = min(scale, size - fs1)
    s1, s2 = int(np.ceil(fs1)), int(np.floor(fs2))
    s2 = min(s2, size - 1)
    s1 = min(s1, s2)
    out = []
    if s1 - fs1 > 1e-3:
        out.append((s1 - 1, float(np.float32((s1 - fs1) / cell))))
    out += [(s, float(np.float32(1.0 / cell))) for s in range(s1, s2)]
    if fs2 - s2 > 1e-3:
        out.append((s2, float(np.float32(min(min(fs2 - s2, 1.0), cell) / cell))))
    return out


def _shrinks(source: tuple[int, int], target: tuple[int, int]) -> bool:
    return target[0] * target[1] < source[0] * source[1]  # as resize_planes decides


def _columns(rows: np.ndarray, width: int, shrink: bool) -> np.ndarray:
    """(C, n, W) -> (C, n, width) float32 with OpenCV, rows untouched."""
    rows = np.asarray(rows, np.float32)
    if rows.shape[-1] == width:
        return rows
    method = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (width, c.shape[0]), interpolation=method) for c in rows])


class ResizedPlane:
    """A (C, H, W) plane resized to `shape` like `resize_planes`, as a read-only float32 array
    computed where it is indexed with slices (what tiling reads). The last rows computed are kept,
    so the tiles of one tile row share one full-width pass; a plane whose channels are one gray
    channel repeated (a broadcast view) is resized once."""

    def __init__(self, plane: np.ndarray, shape: tuple[int, int]):
        self.plane = plane
        self.shape = (plane.shape[0],) + tuple(int(n) for n in shape)
        self.ndim, self.dtype = 3, np.dtype(np.float32)
        self._shrink = _shrinks(plane.shape[-2:], self.shape[-2:])
        self._weights = row_weights(plane.shape[-2], self.shape[-2], self._shrink)
        self._gray = plane.shape[0] > 1 and getattr(plane, "strides", (1,))[0] == 0
        self._kept: tuple[int, int, np.ndarray | None] = (0, 0, None)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > 3 or not all(isinstance(k, slice) for k in key):
            raise TypeError("a ResizedPlane is indexed with slices only")
        channels, ys, xs = key + (slice(None),) * (3 - len(key))
        start, stop, step = ys.indices(self.shape[1])
        if step == 1:
            return self._band(start, max(start, stop))[channels, :, xs]
        rows = np.arange(start, stop, step)
        if len(rows) == 0:
            return np.zeros((self.shape[0], 0, self.shape[2]), np.float32)[channels, :, xs]
        parts = [self._rows(rows[i : i + _CHUNK_ROWS])[channels, :, xs] for i in range(0, len(rows), _CHUNK_ROWS)]
        return np.concatenate(parts, axis=1)

    def _band(self, start: int, stop: int) -> np.ndarray:
        first, last, band = self._kept
        if band is None or start < first or stop > last:
            first, last, band = start, stop, self._rows(np.arange(start, stop))
            self._kept = first, last, band
        return band[:, start - first : stop - first]

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        """Output rows `rows` (sorted), all columns: (C, len(rows), w)."""
        weights = self._weights[rows]
        used = np.unique(weights.indices)
        if len(used) == 0:
            return np.zeros((self.shape[0], len(rows), self.shape[2]), np.float32)
        channels = self.plane[:1] if self._gray else self.plane
        source = _columns(_read_rows(channels, used), self.shape[2], self._shrink)
        weights = weights[:, used]
        out = np.stack([np.asarray(weights @ c, np.float32) for c in source])
        return np.broadcast_to(out, (self.shape[0],) + out.shape[1:]) if self._gray else out


def _read_rows(plane, rows: np.ndarray) -> np.ndarray:
    """plane[:, rows] for sorted `rows`, read run by run: a memory map or a store is sliced only
    where the rows lie (a strided sample of a 16k plane reads a few rows in every dozen)."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    runs = np.split(rows, breaks)
    parts = [np.asarray(plane[:, int(r[0]) : int(r[-1]) + 1]) for r in runs]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def resize_bands(bands: Iterator[tuple[int, np.ndarray]], source: tuple[int, int],
                 target: tuple[int, int]) -> Iterator[tuple[int, np.ndarray]]:
    """Resize (first_row, (C, n, w)) bands of a `source`-sized plane, coming in order, into bands of
    the `target`-sized plane, as `resize_planes` would resize the whole; each output row is
    yielded once the source rows it reads have arrived."""
    shrink = _shrinks(source, target)
    weights = row_weights(source[0], target[0], shrink)
    first_read = weights.indices[weights.indptr[:-1]]
    last_read = np.maximum.accumulate(weights.indices[weights.indptr[1:] - 1])
    first_read = np.minimum.accumulate(first_read[::-1])[::-1]  # from each row on
    held, top, done = None, 0, 0
    for row, band in bands:
        if row == 0 and held is not None:  # tiling starts over after running out of GPU memory
            held, top, done = None, 0, 0
        if row != top + (0 if held is None else held.shape[1]):
            raise ValueError(f"band at row {row} does not follow the rows before it")
        columns = _columns(band, target[1], shrink)
        held = columns if held is None else np.concatenate([held, columns], axis=1)
        end = top + held.shape[1]
        ready = target[0] if end >= source[0] else int(np.searchsorted(last_read, end))
        if ready > done:
            part = weights[done:ready][:, top:end]
            yield done, np.stack([np.asarray(part @ c, np.float32) for c in held])
            done = ready
            if done < target[0]:
                drop = int(first_read[done]) - top
                held, top = held[:, drop:], top + drop
