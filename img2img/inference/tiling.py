"""Tiles over a large plane and the smooth blending that joins their predictions without seams.

Hand-written because no maintained library blends overlapping network outputs while streaming
rows out in bounded memory (Real-ESRGAN/SwinIR-style tilers crop; MONAI's sliding window holds the
whole output as float and brings a large dependency).

Layout along one axis: tile starts are multiples of the network's size multiple, so a U-Net sees
every tile on the same pixel grid as the whole image (stride-2 networks are only shift-equivariant
for such shifts). Tiles are spread evenly, so every overlap is at least the one asked for. Each tile
drops a margin of `overlap // 4` pixels on every side that touches a neighbour (the part that conv
zero-padding spoils) and fades in over the next `overlap // 2` pixels with a raised cosine, which
its neighbour fades out over: the weights of two neighbours sum to one, so a prediction that agrees
between tiles comes out unchanged and one that differs changes smoothly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


@dataclass(frozen=True)
class AxisTiles:
    """Where tiles lie along one axis of a plane of `length` pixels (padded to `padded`)."""

    length: int
    padded: int
    size: int
    starts: tuple[int, ...]

    @classmethod
    def plan(cls, length: int, tile: int, overlap: int, multiple: int) -> "AxisTiles":
        padded = round_up(max(length, 1), multiple)
        size = min(round_up(tile, multiple), padded)
        if size >= padded:
            return cls(length, padded, size, (0,))
        step = max(multiple, (size - overlap) // multiple * multiple)
        n = math.ceil((padded - size) / step) + 1
        # The smallest tile that still covers the axis with n tiles at the asked overlap: with
        # 512 px tiles, a 2048 px image is then 5 tiles of 464 px, not 5 of 512 (20% less work).
        while size - multiple >= max(multiple, overlap + 1) and _min_overlap(padded, size - multiple, n, multiple) >= overlap:
            size -= multiple
        span = padded - size
        starts = tuple(round(i * span / (n - 1) / multiple) * multiple for i in range(n))
        return cls(length, padded, size, starts)

    def weights(self, index: int) -> np.ndarray:
        """Blending weights (size,) of tile `index`: 1 inside, fading where a neighbour takes over."""
        w = np.ones(self.size, dtype=np.float32)
        s = self.starts[index]
        if index > 0:
            w *= _fade_in(self.starts[index - 1] + self.size - s, self.size)
        if index < len(self.starts) - 1:
            w *= _fade_in(s + self.size - self.starts[index + 1], self.size)[::-1]
        return w


def _min_overlap(padded: int, size: int, n: int, multiple: int) -> int:
    """Smallest overlap between neighbours when n tiles of `size` are spread evenly on the grid."""
    gap_units = math.ceil((padded - size) / multiple / (n - 1))
    return size - gap_units * multiple


def _fade_in(overlap: int, size: int) -> np.ndarray:
    """0 over the first overlap/4 pixels, a raised cosine up to 1 over the next overlap/2, then 1."""
    margin = overlap // 4
    ramp = max(1, overlap - 2 * margin)
    u = np.arange(size, dtype=np.float32)
    t = np.clip((u - margin + 0.5) / ramp, 0.0, 1.0)
    return (np.sin(t * np.pi / 2) ** 2).astype(np.float32)


@dataclass(frozen=True)
class TileGrid:
    """All tiles of one (C, H, W) plane, row by row."""

    rows: AxisTiles
    cols: AxisTiles

    @classmethod
    def plan(cls, height: int, width: int, tile: int, overlap: int, multiple: int) -> "TileGrid":
        return cls(AxisTiles.plan(height, tile, overlap, multiple), AxisTiles.plan(width, tile, overlap, multiple))

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.rows.size, self.cols.size

    def __len__(self) -> int:
        return len(self.rows.starts) * len(self.cols.starts)


def extract_tile(plane: np.ndarray, y: int, x: int, shape: tuple[int, int]) -> np.ndarray:
    """The (C, th, tw) tile at (y, x), mirrored past the bottom/right edge of the image."""
    th, tw = shape
    tile = np.asarray(plane[:, y : y + th, x : x + tw])
    ph, pw = th - tile.shape[1], tw - tile.shape[2]
    if ph or pw:
        small = min(tile.shape[1], tile.shape[2]) <= 1
        tile = np.pad(tile, [(0, 0), (0, ph), (0, pw)], mode="edge" if small else "symmetric")
    return tile


def blend_rows(
    plane: np.ndarray,
    grid: TileGrid,
    run_batch: Callable[[list[np.ndarray]], Iterator[np.ndarray]],
    prepare: Callable[[np.ndarray], np.ndarray],
    out_channels: int,
    scale: int = 1,
    batch_size: int = 4,
    on_tiles: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Predict `plane` (C, H, W) tile by tile; yield (first_row, rows) of the blended output.

    Only one tile row of float32 output is held at once, so memory does not grow with the
    image height. `prepare` turns a raw tile into network input (normalization); `run_batch` maps a list
    of prepared tiles to their outputs, (C_out, th*scale, tw*scale) each, in order; `scale` is the
    output/input size ratio (super-resolution). Rows beyond the image (padding) are not yielded.
    """
    rows, cols = grid.rows, grid.cols
    th, tw = grid.tile_shape
    col_weights = [cols.weights(j) for j in range(len(cols.starts))]
    if scale > 1:
        col_weights = [np.repeat(w, scale) for w in col_weights]
    width = cols.padded * scale
    height = rows.length * scale
    band_top = 0
    # The band starts at the current tile row; rows it shares with the next tile row carry over.
    acc = np.zeros((out_channels, th * scale, width), np.float32)
    weight = np.zeros((th * scale, width), np.float32)

    for i, y in enumerate(rows.starts):
        row_w = rows.weights(i)
        if scale > 1:
            row_w = np.repeat(row_w, scale)
        positions = [(y, x) for x in cols.starts]
        for first in range(0, len(positions), batch_size):
            chunk = positions[first : first + batch_size]
            tiles = [prepare(extract_tile(plane, ty, tx, (th, tw))) for ty, tx in chunk]
            for (_, tx), j, out in zip(chunk, range(first, first + len(chunk)), run_batch(tiles)):
                w = row_w[:, None] * col_weights[j][None, :]
                left = tx * scale
                acc[:, :, left : left + tw * scale] += out * w
                weight[:, left : left + tw * scale] += w
            if on_tiles is not None:
                on_tiles(len(chunk))
        # Rows above the next tile row's start are complete: no later tile reaches them.
        done = (rows.starts[i + 1] if i + 1 < len(rows.starts) else rows.padded) - band_top
        first_row = band_top * scale
        n = min(done * scale, height - first_row)
        if n > 0:
            w = np.maximum(weight[:n, : cols.length * scale], 1e-12)
            yield first_row, acc[:, :n, : cols.length * scale] / w
        acc = np.roll(acc, -done * scale, axis=1)
        weight = np.roll(weight, -done * scale, axis=0)
        acc[:, -done * scale :] = 0.0
        weight[-done * scale :] = 0.0
        band_top += done
