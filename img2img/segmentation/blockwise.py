"""Decoding a large plane's maps into instance labels block by block, in bounded memory.

A whole-plane decode of a 16k x 16k image holds several full-size float and integer arrays
(smoothed heights, markers, components, the watershed's own copies): over 10 GB. Instead the maps
arrive as row bands (as the tiles are blended) and are decoded in windows of full-width rows: a
block's core rows plus a halo above and below. Each window is decoded exactly as a whole plane
would be (`decode_rescaled`), and an object is taken from the one window whose core holds its
top-most row, so each object is decided once, whole, by a window that reaches well past it.

Why the result is today's: decoding is local. The smoothed height at a pixel depends on rows
within the Gaussian's radius (`margin`); an object's marker, basin and size depend on its mask
component. A component that stays `margin` rows inside a window is decoded exactly as in the whole
plane (the watershed floods each component on its own, in raster order within it, and full-width
windows keep that order). Only objects of components that run past a window's edge depend on what
the window cut off, and the halo (`reach`, two object diameters beyond the margin) keeps those far
from the objects the window decides; tests compare against whole-plane decoding. An object that
reaches the bottom of its window grows the window until it fits, so no object is ever cut.

Objects are numbered block by block (raster order of the blocks, each block in its own decoding's
order), so the numbering, not the objects, differs from a whole-plane decode. More than 65,535
objects make the labels uint32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from scipy import ndimage

# Planes up to this many pixels are decoded whole (today's path, numbering included).
WHOLE_PLANE_PIXELS = 4096 * 4096
# Pixels in one block's core: a 16k-wide plane is decoded 256 rows at a time, in windows of about
# 6 million pixels that take about 0.2 GB to decode (31 bytes per pixel at the watershed).
BLOCK_PIXELS = 1 << 22
MIN_BLOCK_ROWS = 64
# The halo reaches this many object diameters beyond the smoothing margin.
REACH_DIAMETERS = 2.0
UNKNOWN_DIAMETER = 32.0  # px, for models trained without an object size


def decoded_in_blocks(shape: tuple[int, int]) -> bool:
    return shape[0] * shape[1] > WHOLE_PLANE_PIXELS


def smoothing_margin(sigma: float) -> int:
    """Rows next to a window's cut edge whose smoothed heights differ from the whole plane's
    (scipy's Gaussian reaches int(4 sigma + 0.5) px), plus one so kept components never touch it."""
    return (int(4.0 * sigma + 0.5) if sigma > 0 else 0) + 1


class BlockDecoder:
    """Labels (H, W) of one plane from its maps, fed as row bands from the top (`add`), decoded
    window by window as soon as a window's rows have arrived; `finish` returns them.

    decode: (C, h, W) float32 maps -> (h, W) integer labels 1..N (`decode_rescaled`).
    margin: rows at a window's cut edge that decoding cannot trust (`smoothing_margin`).
    diameter: typical object diameter in the plane's pixels; sets the halo.
    rows: core rows per block (default: `BLOCK_PIXELS` / width).
    """

    def __init__(self, shape: tuple[int, int], decode: Callable[[np.ndarray], np.ndarray], margin: int,
                 diameter: float | None = None, rows: int | None = None):
        self.height, self.width = shape
        self.decode = decode
        self.margin = margin
        self.reach = margin + math.ceil(REACH_DIAMETERS * (diameter or UNKNOWN_DIAMETER))
        self.rows = rows or max(MIN_BLOCK_ROWS, BLOCK_PIXELS // max(1, self.width))
        self._start()

    def _start(self) -> None:
        self.labels = np.zeros((self.height, self.width), np.uint16)
        self.count = 0
        self.core = 0  # first row of the next block's core
        self.below = self.reach  # rows decoded below that core (grows for objects that do not fit)
        self._bands: list[tuple[int, np.ndarray]] = []  # (first row, maps) of the bands still needed
        self._end = 0  # one past the last row received

    def add(self, row: int, band: np.ndarray) -> None:
        """The maps (C, n, W) of rows row..row+n-1, in [0, 1]; bands come in order, without gaps.
        Row 0 again starts over (tiling re-yields a plane after running out of GPU memory)."""
        if row == 0 and self._end:
            self._start()
        if row != self._end:
            raise ValueError(f"band at row {row}, expected row {self._end}")
        self._bands.append((row, np.asarray(band, np.float32)))
        self._end += band.shape[1]
        self._decode_ready()

    def finish(self) -> np.ndarray:
        if self._end != self.height or self.core < self.height:
            raise ValueError(f"maps for {self._end} of {self.height} rows")
        return self.labels

    def _decode_ready(self) -> None:
        while self.core < self.height:
            core_end = min(self.height, self.core + self.rows)
            end = min(self.height, core_end + self.below)
            if self._end < end:
                return
            start = max(0, self.core - self.reach)
            if self._decide(self._window(start, end), start, core_end, end):
                self.core, self.below = core_end, self.reach
                self._bands = [(r, b) for r, b in self._bands if r + b.shape[1] > self.core - self.reach]
            else:
                self.below *= 2

    def _decide(self, maps: np.ndarray, start: int, core_end: int, end: int) -> bool:
        """Keep the objects whose top row lies in the core; False (nothing kept) if one of them
        comes within `margin` of the window's bottom, which is then moved down."""
        labels = self.decode(maps)
        boxes = ndimage.find_objects(labels)
        tops = np.array([b[0].start if b else -1 for b in boxes], np.int64) + start
        bottoms = np.array([b[0].stop if b else -1 for b in boxes], np.int64) + start
        mine = (tops >= self.core) & (tops < core_end)
        if end < self.height and np.any(mine & (bottoms > end - self.margin)):
            return False
        take = np.concatenate([[False], mine])
        region = self.labels[start:end]
        chosen = take[labels] & (region == 0)  # an earlier block's object keeps its pixels
        values = labels[chosen]
        ids = np.flatnonzero(np.bincount(values, minlength=len(take)))
        if self.count + len(ids) > np.iinfo(self.labels.dtype).max:
            self._widen(end)
            region = self.labels[start:end]
        lut = np.zeros(len(take), self.labels.dtype)
        lut[ids] = np.arange(self.count + 1, self.count + len(ids) + 1)
        region[chosen] = lut[values]
        self.count += len(ids)
        return True

    def _widen(self, written: int) -> None:
        """uint16 -> uint32, copying only the rows written so far (the rest stays unallocated)."""
        wide = np.zeros(self.labels.shape, np.uint32)
        wide[:written] = self.labels[:written]
        self.labels = wide

    def _window(self, start: int, end: int) -> np.ndarray:
        """The maps of rows start..end-1, copied together from the bands that hold them."""
        parts = [b[:, max(start, r) - r : min(end, r + b.shape[1]) - r] for r, b in self._bands
                 if r < end and r + b.shape[1] > start]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def stack_labels(planes: Iterable[np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """(planes, H, W) labels of the planes as they come, in one type: uint16, widened to uint32
    when a plane needs it. Only one plane's labels are held besides the stack, and a single plane
    is not copied."""
    out = None
    for k, labels in enumerate(planes):
        if shape[0] == 1:
            return labels[None]
        if out is None:
            out = np.zeros(shape, labels.dtype)
        elif labels.dtype.itemsize > out.dtype.itemsize:
            out = out.astype(labels.dtype)
        out[k] = labels
    return np.zeros(shape, np.uint16) if out is None else out
