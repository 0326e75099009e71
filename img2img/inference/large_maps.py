"""Probability maps of planes decoded in blocks, written as they are made.

`--probabilities` writes float32 maps: 2 GB for a 16k x 16k plane, on top of the labels and the
input. Planes decoded in blocks hand their maps over band by band instead (`MapsWriter.sink`):
into an OME-Zarr store directly, or, for a TIFF, compressed 256 px tile by tile as they come (zlib
level 6, what `io.images.write_image` writes; about an eighth of the size, as most of the maps are
exactly 0) into an unnamed temporary file, from which the TIFF is written once all planes are done
(a TIFF holds each channel's page whole before the next, while the maps come row by row for all
channels). The file is the one `write_image` makes of the float32 array: an OME-TIFF (planes this
large are tiled, which ImageJ's own reader cannot open) with the same tiles, compression, axes and
calibration, and the same values.
"""

from __future__ import annotations

import contextlib
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from img2img.io import tiff
from img2img.io.atomic import atomic_path
from img2img.io.metadata import Calibration
from img2img.io.names import is_zarr

TILE = 256
ZLIB_LEVEL = 6  # tifffile's default for compression="zlib"


def into(maps: np.ndarray) -> Callable[[int, np.ndarray], None]:
    """A sink that puts (first row, (C, n, W)) bands into a (C, H, W) array."""
    def put(row: int, band: np.ndarray) -> None:
        maps[:, row : row + band.shape[1]] = band
    return put


class MapsWriter(contextlib.AbstractContextManager):
    """Float32 maps of shape (planes..., C, H, W) with `axes` (ending in CYX), written to `path`
    band by band: `sink(k)` takes plane k's bands, top to bottom. The file appears when the block
    ends without an error."""

    def __init__(self, path: Path, shape: tuple[int, ...], axes: str, resolution: Calibration | None = None):
        self.path, self.shape, self.axes, self.resolution = Path(path), tuple(shape), axes, resolution
        self._exits = contextlib.ExitStack()
        if is_zarr(self.path):
            from img2img.io import ome_zarr

            self._store = self._exits.enter_context(ome_zarr.create(self.path, self.shape, np.float32, axes, resolution))
        else:
            self._store = None
            self.path.parent.mkdir(parents=True, exist_ok=True)  # unnamed, on the output's disk, gone when closed
            spool = self._exits.enter_context(tempfile.TemporaryFile(dir=self.path.parent))
            planes = int(np.prod(self.shape[:-3], dtype=np.int64))
            self._tiles = [[_Tiles(self.shape[-2:], spool) for _ in range(self.shape[-3])] for _ in range(planes)]

    def sink(self, k: int) -> Callable[[int, np.ndarray], None]:
        def put(row: int, band: np.ndarray) -> None:
            if self._store is not None:
                self._store[k, :, row : row + band.shape[1]] = band
            else:
                for tiles, channel in zip(self._tiles[k], band):
                    tiles.add(row, channel)
        return put

    def __exit__(self, kind, error, trace) -> bool | None:
        if kind is None and self._store is None:
            with self._exits:
                self._write_tiff()
            return None
        return self._exits.__exit__(kind, error, trace)  # an OME-Zarr store is kept only on success

    def _write_tiff(self) -> None:
        pages = (t for plane in self._tiles for channel in plane for t in channel.finish())
        with atomic_path(self.path) as tmp:
            tiff._imwrite(tmp, pages, shape=self.shape, dtype=np.float32, compression="zlib", tile=(TILE, TILE),
                          **tiff.ome_arguments(self.shape, np.float32, self.axes, self.resolution))


class _Tiles:
    """One (H, W) page as zlib-compressed 256 px tiles, made from rows as they come and kept in
    `spool` (a file shared by all pages); `finish` reads them back in TIFF order."""

    def __init__(self, shape: tuple[int, int], spool):
        self.height, self.width = shape
        self.spool = spool
        self.tiles: list[tuple[int, int]] = []  # (offset, length) in the spool
        self._rows = np.zeros((0, self.width), np.float32)  # rows of the tile row being filled
        self._done = 0  # rows already compressed

    def add(self, row: int, rows: np.ndarray) -> None:
        if row == 0 and (self._done or len(self._rows)):  # tiling starts over after running out of GPU memory
            self.__init__((self.height, self.width), self.spool)
        if row != self._done + len(self._rows):
            raise ValueError(f"rows from {row}, expected {self._done + len(self._rows)}")
        self._rows = np.concatenate([self._rows, np.asarray(rows, np.float32)])
        while len(self._rows) >= TILE or (len(self._rows) and self._done + len(self._rows) == self.height):
            self._compress(self._rows[:TILE])
            self._rows, self._done = self._rows[TILE:], self._done + min(TILE, len(self._rows))

    def _compress(self, strip: np.ndarray) -> None:
        tile = np.zeros((TILE, TILE), np.float32)  # edge tiles are padded with zeros, as tifffile pads them
        for x in range(0, self.width, TILE):
            part = strip[:, x : x + TILE]
            tile[:] = 0
            tile[: part.shape[0], : part.shape[1]] = part
            data = zlib.compress(tile.tobytes(), ZLIB_LEVEL)
            offset = self.spool.seek(0, 2)
            self.spool.write(data)
            self.tiles.append((offset, len(data)))

    def finish(self) -> Iterator[bytes]:
        if self._done != self.height:
            raise ValueError(f"maps for {self._done} of {self.height} rows")
        for offset, length in self.tiles:
            self.spool.seek(offset)
            yield self.spool.read(length)
