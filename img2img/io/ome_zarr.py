"""OME-Zarr (OME-NGFF) images in and out, for data too large to hold or to write in one piece.

A store is chunked, so a 20k px plane is read tile by tile as inference reaches it (see
`io.lazy`), and a result is written band by band as the tiles are blended. napari (with the
napari-ome-zarr plugin) and Fiji's OME-Zarr readers open them piece by piece too.

The NGFF metadata we need is a few JSON dicts (axes, the full-resolution dataset, its scale),
read and written here with zarr itself; ome-zarr-py would bring dask and more for nothing we use.

Read: v0.4 (zarr v2, `.zattrs` "multiscales") and v0.5 (zarr v3, attributes["ome"]["multiscales"]),
also inside a bioformats2raw layout (its first series); level 0 only, pixel size from its y/x
scale. Write: v0.4 on zarr v2, the version most readers open, one level, axes in the NGFF order
t, c, z, y, x, 512 px chunks per plane and channel, Blosc zstd. A store is written under a hidden
temporary name and renamed into place when complete (`io.atomic`), so an existing one is whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from img2img.errors import UserError, first_line
from img2img.io.atomic import atomic_directory
from img2img.io.axes import canonical_axes, to_planes
from img2img.io.images import image_stem
from img2img.io.lazy import LazyPixels, PlanesView
from img2img.io.metadata import Resolution

NGFF_AXES = "TCZYX"  # the order NGFF requires: time, channel, then space
CHUNK = 512
_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}
# Length units NGFF names (UDUNITS-2), per centimetre: Resolution keeps pixels per cm.
_PER_CM = {"angstrom": 1e8, "nanometer": 1e7, "micrometer": 1e4, "millimeter": 10.0, "centimeter": 1.0,
           "meter": 0.01, "micron": 1e4, "um": 1e4, "µm": 1e4, "nm": 1e7, "mm": 10.0}


def read(path: Path, lazy: bool = False) -> tuple[np.ndarray | LazyPixels, str, Resolution | None]:
    """(pixels, axes such as 'CZYX', pixel size) of the full-resolution level of an OME-NGFF image.

    `lazy`: the pixels stay in the store (`LazyPixels`) and are read where they are indexed.
    """
    import zarr

    group = _open_group(path)
    meta = _ome_attributes(group)
    if "multiscales" not in meta and "bioformats2raw.layout" in meta:
        group = _open_group(path, "0")  # bioformats2raw: the first series is image "0"
        meta = _ome_attributes(group)
    if not meta.get("multiscales"):
        kind = "an HCS plate or well" if "plate" in meta or "well" in meta else "a zarr store"
        raise UserError(f"{path}: {kind} but not an OME-NGFF image (no 'multiscales' metadata); "
                        "give the folder of one image")
    try:
        multiscale = meta["multiscales"][0]
        dataset = multiscale["datasets"][0]
        array = group[dataset["path"]]
        names = _axis_names(multiscale, array.ndim)
        scale = _scale(multiscale, dataset, array.ndim)
    except (KeyError, IndexError, TypeError, ValueError, zarr.errors.BaseZarrError) as exc:
        raise UserError(f"{path}: damaged OME-NGFF metadata ({type(exc).__name__}: {exc}); is the store complete?") from None
    axes = _axes(names, path)
    if not isinstance(array, zarr.Array) or array.ndim != len(axes):
        raise UserError(f"{path}: dataset '{dataset['path']}' does not match its {len(axes)} axes {names}")
    dtype = np.dtype(array.dtype)
    native = dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype
    data = LazyPixels(array, native, source=str(path))
    return (data if lazy else np.asarray(data)), axes, _resolution(names, scale, multiscale["axes"])


@contextlib.contextmanager
def create(
    path: Path, shape: tuple[int, ...], dtype: np.dtype | str, axes: str, resolution: Resolution | None = None,
) -> Iterator[PlanesView]:
    """A new OME-NGFF v0.4 image for a result of `shape` in `axes` (the order `Predictor.predict`
    returns, e.g. 'ZYX' or 'YXC'), as a (planes, C, Y, X) `PlanesView` to fill band by band.

    Planes are numbered in `axes`' order, like `to_planes` numbers an input's; the store holds them
    in NGFF order. It appears at `path` only if the block succeeds.
    """
    import numcodecs
    import zarr

    axes = canonical_axes(axes)
    if set(axes) - set(NGFF_AXES) or len(set(axes)) != len(axes) or not {"Y", "X"} <= set(axes):
        raise UserError(f"{path}: OME-Zarr holds the axes t, c, z, y, x (each once, with y and x); this result "
                        f"has '{axes}'; write a .tif instead")
    stored = "".join(a for a in NGFF_AXES if a in axes)
    stored_shape = tuple(int(shape[axes.index(a)]) for a in stored)
    chunks = tuple(min(CHUNK, n) if a in "YX" else 1 for a, n in zip(stored, stored_shape))
    with atomic_directory(path) as tmp:
        group = zarr.open_group(tmp, mode="w", zarr_format=2)
        group.attrs["multiscales"] = multiscales(image_stem(path), stored, resolution)
        array = group.create_array(
            "0", shape=stored_shape, chunks=chunks, dtype=np.dtype(dtype), fill_value=0,
            compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE),
            chunk_key_encoding={"name": "v2", "separator": "/"},  # NGFF 0.4 asks for nested chunk keys
        )
        yield PlanesView(array, stored, plane_axes="".join(a for a in axes if a not in "CYX"))


def write(path: Path, data: np.ndarray, axes: str, resolution: Resolution | None = None) -> Path:
    """Write an in-memory result (e.g. probability maps) as OME-NGFF v0.4, plane by plane."""
    planes, _ = to_planes(np.asarray(data), axes)
    with create(path, data.shape, data.dtype, axes, resolution) as target:
        for k in range(len(planes)):
            target[k, :] = planes[k]
    return path


def multiscales(name: str, axes: str, resolution: Resolution | None) -> list[dict]:
    """The v0.4 'multiscales' attribute of a one-level image stored with `axes` (NGFF order)."""
    unit, size = _pixel_size(resolution)
    entries = []
    for a in axes:
        entry = {"name": a.lower(), "type": _TYPES[a]}
        if a in "YX" and unit:
            entry["unit"] = unit
        entries.append(entry)
    scale = [size[0] if a == "Y" else size[1] if a == "X" else 1.0 for a in axes]
    return [{
        "version": "0.4", "name": name, "axes": entries,
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}],
    }]


def _open_group(path: Path, inner: str = ""):
    import zarr

    try:
        return zarr.open_group(str(Path(path) / inner) if inner else str(path), mode="r")
    except zarr.errors.GroupNotFoundError:
        raise UserError(f"{path}: not an OME-NGFF image (no zarr group metadata: .zgroup/.zattrs or zarr.json)") from None
    except Exception as exc:  # unreadable JSON, a permission problem, ...
        raise UserError(f"{path}: cannot read OME-Zarr ({first_line(exc, typed=True, limit=None)})") from None


def _ome_attributes(group) -> dict:
    attrs = group.attrs.asdict()
    return attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs  # v0.5 nests under "ome"


def _axis_names(multiscale: dict, ndim: int) -> list[str]:
    """Axis names; v0.4+ lists dicts, v0.3 strings, v0.1/0.2 imply t, c, z, y, x."""
    axes = multiscale.get("axes")
    if axes is None:
        axes = list("tczyx")[-ndim:] if ndim <= 5 else []
        multiscale["axes"] = axes
    return [str(a["name"] if isinstance(a, dict) else a).lower() for a in axes]


def _axes(names: list[str], path: Path) -> str:
    unknown = [n for n in names if n.upper() not in NGFF_AXES or len(n) != 1]
    if unknown:
        raise UserError(f"{path}: axis {unknown[0]!r} is not one of t, c, z, y, x; we read those only")
    axes = "".join(names).upper()
    if "Y" not in axes or "X" not in axes:
        raise UserError(f"{path}: axes {','.join(names)} have no y and x; an image needs both")
    if len(set(axes)) != len(axes):
        raise UserError(f"{path}: axes {','.join(names)} name an axis twice")
    return axes


def _scale(multiscale: dict, dataset: dict, ndim: int) -> list[float]:
    """The dataset's scale times the multiscale-wide one (translations do not change pixel size)."""
    scale = np.ones(ndim)
    for transform in dataset.get("coordinateTransformations", []) + multiscale.get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            values = np.asarray(transform["scale"], float)
            if values.shape != (ndim,):
                raise ValueError(f"scale {transform['scale']} does not have {ndim} values")
            scale *= values
    return scale.tolist()


def _resolution(names: list[str], scale: list[float], axes: list) -> Resolution | None:
    """Pixels per cm (Resolution's TIFF convention) from the y/x scale; unitless if no unit is given."""
    sy, sx = scale[names.index("y")], scale[names.index("x")]
    units = [a.get("unit") if isinstance(a, dict) else None for a in axes]
    unit = units[names.index("x")] or units[names.index("y")]
    if not sx > 0 or not sy > 0:
        return None
    per_cm = _PER_CM.get(str(unit).lower()) if unit else None
    if per_cm:
        return Resolution(per_cm / sx, per_cm / sy, 3)
    if str(unit).lower() == "inch":
        return Resolution(1 / sx, 1 / sy, 2)
    return None if sx == 1 and sy == 1 else Resolution(1 / sx, 1 / sy, 1)


def _pixel_size(resolution: Resolution | None) -> tuple[str | None, tuple[float, float]]:
    """(unit, (y, x) pixel size) for the NGFF scale: micrometres when the TIFF unit is a length."""
    if resolution is None or not resolution.x or not resolution.y:
        return None, (1.0, 1.0)
    microns_per_unit = {3: 1e4, 2: 25400.0}.get(resolution.unit)
    if microns_per_unit is None:
        return None, (1 / resolution.y, 1 / resolution.x)
    return "micrometer", (microns_per_unit / resolution.y, microns_per_unit / resolution.x)

