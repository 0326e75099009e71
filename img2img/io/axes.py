"""Axis strings (tifffile's vocabulary: Y, X, C, Z, T, ...) and conversions to the (C, H, W) layout nets use.

We keep the axes a file came with so that outputs open in Fiji/napari the way the input did.
"""

from __future__ import annotations

import numpy as np

from img2img.errors import UserError
from img2img.io.lazy import LazyPixels, PlanesView

_ALIASES = {"S": "C", "Q": "Z", "I": "Z"}  # samples are channels; unknown/sequence axes are planes


def canonical_axes(axes: str) -> str:
    """Map tifffile's axis letters onto the few this project works with (Y, X, C, Z, T)."""
    return "".join(_ALIASES.get(a, a) for a in axes.upper())


def guess_axes(shape: tuple[int, ...], n_channels: int | None = None) -> str:
    """Axes for a bare array: 2D is YX; 3D is YXC when the last axis looks like colour, CYX
    when the first matches the expected channel count, otherwise a stack of planes (ZYX)."""
    if len(shape) == 2:
        return "YX"
    if len(shape) == 3:
        if shape[-1] in (3, 4) and shape[0] > 4:
            return "YXC"
        if n_channels is not None and n_channels > 1 and shape[0] == n_channels:
            return "CYX"
        return "ZYX"
    if len(shape) == 4:
        return "ZYXC" if shape[-1] in (3, 4) else "ZCYX"
    raise UserError(f"cannot interpret an array of shape {shape}: pass axes explicitly, e.g. axes='ZYX'")


def to_planes(array: np.ndarray, axes: str) -> tuple[np.ndarray, str]:
    """Reorder to (planes, C, Y, X); return it with the axis string of the plane dimension(s)
    so `from_planes` can restore the original layout. A `LazyPixels` store comes back as a
    `PlanesView` that reads only what is indexed."""
    axes = canonical_axes(axes)
    if len(axes) != array.ndim:
        raise UserError(f"axes '{axes}' do not match an array with {array.ndim} dimensions")
    if len(set(axes)) != len(axes):
        raise UserError(f"axes '{axes}' name an axis twice; save the image with distinct axes (e.g. ZCYX)")
    for required in "YX":
        if required not in axes:
            raise UserError(f"axes '{axes}' have no {required} axis")
    plane_axes = "".join(a for a in axes if a not in "CYX")
    if isinstance(array, LazyPixels):  # on disk: index it where it lies instead of transposing it whole
        return PlanesView(array, axes), plane_axes
    if "C" not in axes:
        array, axes = array[..., None], axes + "C"
    order = [axes.index(a) for a in plane_axes + "CYX"]
    moved = np.transpose(array, order)
    return moved.reshape((-1,) + moved.shape[-3:]), plane_axes


def from_planes(planes: np.ndarray, plane_shape: tuple[int, ...], out_axes: str) -> np.ndarray:
    """Inverse of `to_planes` for a (planes, C, Y, X) or (planes, Y, X) result.

    `out_axes` is the wanted output order, e.g. 'ZYX' or 'YXC'; 'C' may be absent when
    `planes` has no channel dimension.
    """
    has_c = planes.ndim == 4
    src_axes = "".join(a for a in out_axes if a not in "CYX") + ("CYX" if has_c else "YX")
    arr = planes.reshape(tuple(plane_shape) + planes.shape[1:])
    return np.transpose(arr, [src_axes.index(a) for a in out_axes])
