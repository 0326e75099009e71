"""Arrays that stay on disk (an OME-Zarr store), seen as the (planes, C, Y, X) stack the Predictor walks.

`to_planes` moves axes with np.transpose, which on a zarr array would read the whole image; a
20k px plane must instead be read tile by tile. So a stored array is wrapped in `LazyPixels`, and
`to_planes` hands back a `PlanesView`: indexing it with a plane number and channel/row/column
slices reads just that block from the store's own axis order. The same view, over a zarr array
being written, takes the result band by band.

What the Predictor does with a lazy plane: tiles are slices; the percentile range takes the same
strided subsample (`image[:, ::step, ::step]`) as for an in-memory plane, so it reads through the
plane's chunks once with bounded memory and gives exactly the range a TIFF of the same pixels
gets; inpainting (mask rules, known-pixel copy) reads the one plane whole, as it does for TIFFs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from img2img.errors import UserError, first_line


class LazyPixels:
    """A stored array (anything with `shape`, `dtype` and basic slicing, e.g. `zarr.Array`) read on
    demand; `astype` converts what is read (int16 -> float32), not the store."""

    def __init__(self, array, dtype: np.dtype | str | None = None, source: str | None = None):
        self.array = array
        self.dtype = np.dtype(dtype or array.dtype)
        self.source = source  # the store, named in errors

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        try:
            block = np.asarray(self.array[key])
        except Exception as exc:  # a damaged chunk: codec and format errors of many types
            raise UserError(f"{self.source or 'stored image'}: cannot read pixels ({first_line(exc)}); is the store complete?") from None
        return block.astype(self.dtype, copy=False)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self[...]
        return data if dtype is None else data.astype(dtype, copy=False)

    def astype(self, dtype) -> "LazyPixels":
        return LazyPixels(self.array, dtype, self.source)


class PlanesView:
    """(planes, C, Y, X) indexing of `array` stored with `axes` (e.g. 'TCZYX'); C may be absent
    (then it is one channel). Planes are numbered over `plane_axes` in that order (default: the
    stored order), like `to_planes` numbers them; `channels` picks input channels (may repeat)."""

    def __init__(self, array, axes: str, plane_axes: str | None = None, channels: list[int] | None = None):
        self.array, self.axes = array, axes
        self.plane_axes = "".join(a for a in axes if a not in "CYX") if plane_axes is None else plane_axes
        if sorted(self.plane_axes + "CYX") != sorted(axes if "C" in axes else axes + "C"):
            raise ValueError(f"plane axes '{self.plane_axes}' do not fit array axes '{axes}'")
        self.plane_shape = tuple(array.shape[axes.index(a)] for a in self.plane_axes)
        stored = array.shape[axes.index("C")] if "C" in axes else 1
        self.channels = list(range(stored)) if channels is None else list(channels)
        self.dtype = np.dtype(array.dtype)
        self.shape = (math.prod(self.plane_shape), len(self.channels),
                      array.shape[axes.index("Y")], array.shape[axes.index("X")])
        self.ndim = 4

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self) -> Iterator["Plane"]:
        return (self[k] for k in range(len(self)))

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], key[1:]
        if isinstance(first, slice) and first == slice(None) and len(rest) == 1:  # planes[:, channels]
            picked = np.arange(len(self.channels))[rest[0]]
            return PlanesView(self.array, self.axes, self.plane_axes, [self.channels[i] for i in np.atleast_1d(picked)])
        plane = Plane(self, _plane_number(first, len(self)))
        return plane[rest] if rest else plane

    def __setitem__(self, key, value) -> None:
        key = key if isinstance(key, tuple) else (key,)
        Plane(self, _plane_number(key[0], len(self)))[key[1:]] = value

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = np.stack([np.asarray(plane) for plane in self])
        return data if dtype is None else data.astype(dtype, copy=False)


class Plane:
    """Plane `k` of a `PlanesView` as a (C, Y, X) array-like: slicing reads (or writes) that block only."""

    def __init__(self, view: PlanesView, k: int):
        self.view, self.k = view, k
        self.shape, self.dtype, self.ndim = view.shape[1:], view.dtype, 3

    def __getitem__(self, key) -> np.ndarray:
        channels, rows, cols = _three(key)
        picked = np.asarray(self.view.channels)[channels]
        blocks = [self._read(int(c), rows, cols) for c in np.atleast_1d(picked)]
        return np.stack(blocks) if np.ndim(picked) else blocks[0]

    def __setitem__(self, key, value) -> None:
        """Write a (C, rows, cols) block; all channels at once, in stored order."""
        channels, rows, cols = _three(key)
        if channels != slice(None) or self.view.channels != list(range(len(self.view.channels))):
            raise ValueError("a plane is written with all its channels")
        view = self.view
        index = self._index(slice(None), rows, cols)
        kept = [a for a, i in zip(view.axes, index) if not isinstance(i, (int, np.integer))]  # C?, Y, X in stored order
        value = np.asarray(value)
        if "C" not in view.axes:
            value = value[0]
        source = ("C" if "C" in view.axes else "") + "YX"
        view.array[index] = np.transpose(value, [source.index(a) for a in kept])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self[:, :, :]
        return data if dtype is None else data.astype(dtype, copy=False)

    def _read(self, channel: int, rows: slice, cols: slice) -> np.ndarray:
        """(rows, cols) of one stored channel."""
        view = self.view
        index = self._index(channel if "C" in view.axes else None, rows, cols)
        block = np.asarray(view.array[index])
        kept = [a for a, i in zip(view.axes, index) if not isinstance(i, (int, np.integer))]
        return np.transpose(block, [kept.index(a) for a in "YX"])

    def _index(self, channel, rows: slice, cols: slice) -> tuple:
        """The stored array's index: this plane's position, `channel` (an int or a slice), rows, cols."""
        view = self.view
        position = dict(zip(view.plane_axes, (int(i) for i in np.unravel_index(self.k, view.plane_shape))))
        position.update(C=channel, Y=rows, X=cols)
        return tuple(position[a] for a in view.axes)


def _plane_number(key, n: int) -> int:
    if not isinstance(key, (int, np.integer)):
        raise TypeError(f"a lazy stack is indexed by one plane number first, not {key!r}")
    k = int(key) + (n if key < 0 else 0)
    if not 0 <= k < n:
        raise IndexError(f"plane {key} of {n}")
    return k


def _three(key) -> tuple:
    """(channels, rows, cols) of a plane index: ints, slices (rows/cols with a positive step)."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > 3 or any(k is Ellipsis for k in key):
        raise TypeError(f"a lazy plane takes up to three indices (channel, rows, columns), not {key!r}")
    channels, rows, cols = key + (slice(None),) * (3 - len(key))
    for k in (rows, cols):
        if not isinstance(k, slice):
            raise TypeError(f"rows and columns of a lazy plane are slices, not {k!r}")
    return channels, rows, cols
