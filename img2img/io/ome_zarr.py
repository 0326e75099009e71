"""OME-Zarr (OME-NGFF) images in and out, for data too large to hold or to write in one piece.

A store is chunked, so a 20k px plane is read tile by tile as inference reaches it (see
`io.lazy`), and a result is written band by band as the tiles are blended. napari (with the
napari-ome-zarr plugin) and Fiji's OME-Zarr readers open them piece by piece too.

Read: v0.4 (zarr v2, `.zattrs` "multiscales") and v0.5 (zarr v3, attributes["ome"]["multiscales"]),
also a bioformats2raw layout (one series of several must be chosen with `--series`); level 0,
with the scale and unit of every axis as the calibration.

Write: v0.4 on zarr v2 (the version most readers open), axes in the NGFF order t, c, z, y, x with
the full scale of each (time interval, Z step, pixel size, and their units), 512 px chunks per
plane and channel, Blosc zstd. Level 0 is filled band by band by the caller (`create`); when it
is complete, a pyramid is made from it, halving Y and X (Z is kept: stacks are anisotropic) until
the plane fits one chunk, each level read and written band by band, so memory stays bounded by a
band whatever the image size. Segmentations get the NGFF `image-label` metadata (napari opens
them as a Labels layer) and their pyramid takes every other pixel (labels are never averaged);
images get 2x2 means and `omero` channel metadata with each channel's display window.

The NGFF metadata (multiscales, axes, coordinate transformations, omero, image-label) is built
from ome-zarr-models' schema classes (the OME-Zarr community's pydantic models of the spec), and
every store is validated against them before it is put in place. Pixels and pyramid levels are
ours: ome-zarr-py's and ngff-zarr's writers take a whole (numpy or dask) array and build the
pyramid with dask, which cannot take a result that arrives band by band while it is predicted; and
importing ome-zarr-py (it imports dask) alone added 95 MB resident and seconds of start-up to a run
whose memory bound is the point (docs/benchmarks.md, "OME-Zarr output"). A store is written under a
hidden temporary name and renamed into place when complete (`io.atomic`), so an existing one is whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from img2img.errors import UserError, first_line
from img2img.io.atomic import atomic_directory
from img2img.io.axes import canonical_axes, to_planes
from img2img.io.lazy import LazyPixels, PlanesView
from img2img.io.metadata import LENGTH_UNITS, TIME_UNITS, Calibration, Image, calibration_or_none, unit_name
from img2img.io.names import ZARR_SUFFIX, image_stem

NAME = "ome-zarr"
SUFFIXES = (".ome.zarr", ZARR_SUFFIX)
FOLDER = True
NGFF_AXES = "TCZYX"  # the order NGFF requires: time, channel, then space
CHUNK = 512
BAND_ROWS = CHUNK  # rows of a level read at a time while making the next one (one chunk row)
HALVE_COLUMNS = 4096  # columns of a band averaged at a time (even, so pieces join exactly)
_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}
# Channel colours of the omero metadata: gray for one channel, else the usual fluorescence set.
COLOURS = ("FF00FF", "00FF00", "0000FF", "FF0000", "FFFF00", "00FFFF")


# --- reading ---------------------------------------------------------------------------------
def read(path: Path, lazy: bool = False, series: int | str | None = None) -> Image:
    """The full-resolution level of an OME-NGFF image: pixels (in the store if `lazy`), axes such
    as 'CZYX', and the calibration of every axis."""
    import zarr

    if not Path(path).is_dir():
        raise UserError(f"{path}: no such OME-Zarr folder")
    group = _open_group(path)
    meta = _ome_attributes(group)
    if "multiscales" not in meta and "bioformats2raw.layout" in meta:
        inner = _bioformats2raw_series(path, group, series)
        group = _open_group(path, inner)
        meta = _ome_attributes(group)
    elif series not in (None, 0, "0"):
        raise UserError(f"{path}: --series {series}: this store holds one image (series 0)")
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
    calibration = calibration_from_scale(axes, scale, multiscale["axes"])
    return Image(data=data if lazy else np.asarray(data), axes=axes, path=Path(path), calibration=calibration)


def _bioformats2raw_series(path: Path, group, series) -> str:
    """The path of the chosen image of a bioformats2raw store (`OME/series` lists them, else the
    numbered groups); one of several must be chosen."""
    import zarr

    names = None
    with contextlib.suppress(Exception):
        names = [str(s) for s in zarr.open_group(str(Path(path) / "OME"), mode="r").attrs.asdict().get("series", [])]
    if not names:
        names = sorted((k for k, _ in group.groups() if k.isdigit()), key=int) or ["0"]
    if series is None:
        if len(names) > 1:
            sizes = []
            for name in names:
                with contextlib.suppress(Exception):
                    inner = _ome_attributes(_open_group(path, name))["multiscales"][0]
                    shape = _open_group(path, name)[inner["datasets"][0]["path"]].shape
                    axes = "".join(_axis_names(inner, len(shape))).upper()
                    sizes.append(f"{name}: {'x'.join(map(str, shape))} {axes}")
                    continue
                sizes.append(f"{name}: ?")
            raise UserError(f"{path}: holds {len(names)} images ({'; '.join(sizes)}); choose one with --series")
        return names[0]
    text = str(series)
    if text in names:
        return text
    if text.isdigit() and int(text) < len(names):
        return names[int(text)]
    raise UserError(f"{path}: --series {series}: no such series; it holds {len(names)}: {', '.join(names)}")


def calibration_from_scale(axes: str, scale: list[float], entries: list) -> Calibration | None:
    """Sizes and units of x, y, z, t from an NGFF scale; a length unit other than x's is converted."""
    units = {a: unit_name(e.get("unit")) if isinstance(e, dict) else None for a, e in zip(axes, entries)}
    sizes = dict(zip(axes, scale))
    unit = units.get("X") or units.get("Y") or units.get("Z")
    if unit is not None and unit not in LENGTH_UNITS:
        unit = None
    values = {}
    for axis in "XYZ":
        size = sizes.get(axis)
        if size == 1 and units.get(axis) is None and unit is not None:
            size = None  # a scale of 1 in no unit beside calibrated axes: not known (as we write it)
        if size is not None and unit and units.get(axis) in LENGTH_UNITS and units[axis] != unit:
            size = size * LENGTH_UNITS[units[axis]] / LENGTH_UNITS[unit]
        values[axis.lower()] = size
    time_unit = units.get("T") if units.get("T") in TIME_UNITS else None
    t = sizes.get("T") if "T" in sizes and (time_unit or sizes["T"] != 1) else None
    if unit is None and all(values.get(a) in (None, 1.0) for a in "xyz"):
        values = {}  # unit-less ones say nothing
    return calibration_or_none(Calibration(**values, t=t, unit=unit, time_unit=time_unit))


# --- writing ---------------------------------------------------------------------------------
@contextlib.contextmanager
def create(
    path: Path, shape: tuple[int, ...], dtype: np.dtype | str, axes: str, calibration: Calibration | None = None,
    kind: str = "image",
) -> Iterator[PlanesView]:
    """A new OME-NGFF v0.4 image for a result of `shape` in `axes` (the order `Predictor.predict`
    returns, e.g. 'ZYX' or 'YXC'), as a (planes, C, Y, X) `PlanesView` to fill band by band.

    Planes are numbered in `axes`' order, like `to_planes` numbers an input's; the store holds them
    in NGFF order. `kind`: "labels" (a segmentation: image-label metadata, a nearest-pixel pyramid)
    or "image". The pyramid and metadata are made when the block ends; the store appears at
    `path` only if it succeeds.
    """
    import zarr

    axes = canonical_axes(axes)
    if set(axes) - set(NGFF_AXES) or len(set(axes)) != len(axes) or not {"Y", "X"} <= set(axes):
        raise UserError(f"{path}: OME-Zarr holds the axes t, c, z, y, x (each once, with y and x); this result "
                        f"has '{axes}'; write a .tif instead")
    if kind == "labels" and np.dtype(dtype).kind not in "iu":
        raise ValueError(f"labels must be integers, not {np.dtype(dtype)}")
    stored = "".join(a for a in NGFF_AXES if a in axes)
    stored_shape = tuple(int(shape[axes.index(a)]) for a in stored)
    with atomic_directory(path) as tmp:
        group = zarr.open_group(tmp, mode="w", zarr_format=2)
        array = _new_level(group, "0", stored, stored_shape, dtype)
        yield PlanesView(array, stored, plane_axes="".join(a for a in axes if a not in "CYX"))
        shapes, windows = _pyramid(group, stored, stored_shape, dtype, kind)
        write_metadata(group, image_stem(path), stored, shapes, calibration, kind, windows)


def write(path: Path, data: np.ndarray, axes: str, calibration: Calibration | None = None, kind: str = "image") -> Path:
    """Write an in-memory result (e.g. labels, probability maps) as OME-NGFF v0.4, plane by plane."""
    planes, _ = to_planes(np.asarray(data), axes)
    with create(path, data.shape, data.dtype, axes, calibration, kind) as target:
        for k in range(len(planes)):
            target[k, :] = planes[k]
    return path


def _new_level(group, name: str, axes: str, shape: tuple[int, ...], dtype):
    import numcodecs

    chunks = tuple(min(CHUNK, n) if a in "YX" else 1 for a, n in zip(axes, shape))
    return group.create_array(
        name, shape=shape, chunks=chunks, dtype=np.dtype(dtype), fill_value=0,
        compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE),
        chunk_key_encoding={"name": "v2", "separator": "/"},  # NGFF 0.4 asks for nested chunk keys
    )


def pyramid_shapes(axes: str, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Level shapes: Y and X halved (rounded up) until the plane fits one chunk."""
    shapes = [tuple(shape)]
    y, x = axes.index("Y"), axes.index("X")
    while max(shapes[-1][y], shapes[-1][x]) > CHUNK:
        shapes.append(tuple((n + 1) // 2 if k in (y, x) else n for k, n in enumerate(shapes[-1])))
    return shapes


def _pyramid(group, axes: str, shape: tuple[int, ...], dtype, kind: str) -> tuple[list[tuple[int, ...]], list | None]:
    """Make levels 1.. from level 0, band by band; return the level shapes and, for images, each
    channel's (min, max) over level 0 (the omero display window)."""
    shapes = pyramid_shapes(axes, shape)  # Y and X are the last two axes in NGFF order
    c = axes.index("C") if "C" in axes else None
    channels = shape[c] if c is not None else 1
    lows, highs = np.full(channels, np.inf), np.full(channels, -np.inf)
    track = kind != "labels"
    levels = [group["0"]] + [_new_level(group, str(k), axes, s, dtype) for k, s in enumerate(shapes[1:], start=1)]
    if len(levels) == 1 and track:  # no pyramid to make: one pass for the window only
        for index in np.ndindex(*shape[:-2]):
            for row in range(0, shape[-2], BAND_ROWS):
                _window(np.asarray(levels[0][index + (slice(row, row + BAND_ROWS),)]), index, c, lows, highs)
    for level in range(1, len(levels)):
        source, target = levels[level - 1], levels[level]
        for index in np.ndindex(*shape[:-2]):
            for row in range(0, shapes[level - 1][-2], BAND_ROWS):
                band = np.asarray(source[index + (slice(row, row + BAND_ROWS),)])
                if level == 1 and track:
                    _window(band, index, c, lows, highs)
                half = np.concatenate([_halve(band[:, x : x + HALVE_COLUMNS], kind)  # a few MB at a time
                                       for x in range(0, band.shape[1], HALVE_COLUMNS)], axis=1)
                target[index + (slice(row // 2, row // 2 + (band.shape[0] + 1) // 2),)] = half
    windows = None
    if track:
        windows = [(float(lo), float(hi)) if np.isfinite(lo) else (0.0, 0.0) for lo, hi in zip(lows, highs)]
    return shapes, windows


def _window(band: np.ndarray, index: tuple, c: int | None, lows: np.ndarray, highs: np.ndarray) -> None:
    k = index[c] if c is not None else 0
    finite = band[np.isfinite(band)] if band.dtype.kind == "f" else band
    if finite.size:
        lows[k], highs[k] = min(lows[k], finite.min()), max(highs[k], finite.max())


def _halve(band: np.ndarray, kind: str) -> np.ndarray:
    """A (rows, cols) band at half size (odd sides round up): every other pixel for labels, 2x2
    means for images (an odd last row or column averaged with itself), in float32 (exact for
    sums of 16-bit values) and rounded back for integer types."""
    if kind == "labels":
        return band[::2, ::2]
    values = band.astype(np.float32)
    h, w = values.shape
    rows = values[0 : h - 1 : 2] + values[1:h:2]
    if h % 2:
        rows = np.concatenate([rows, 2 * values[-1:]])
    both = rows[:, 0 : w - 1 : 2] + rows[:, 1:w:2]
    if w % 2:
        both = np.concatenate([both, 2 * rows[:, -1:]], axis=1)
    both *= 0.25
    if band.dtype.kind in "iu":
        info = np.iinfo(band.dtype)
        return np.clip(np.rint(both), info.min, info.max).astype(band.dtype)
    return both.astype(band.dtype, copy=False)


def write_metadata(group, name: str, axes: str, shapes: list[tuple[int, ...]], calibration: Calibration | None,
                   kind: str, windows: list | None) -> None:
    """NGFF v0.4 metadata built from ome-zarr-models' schema classes (axes with units, one scale per
    level; image-label for labels, omero channels for images), then the whole store validated
    against the schema before it is put in place."""
    from ome_zarr_models.v04.axes import Axis
    from ome_zarr_models.v04.image import Image as NgffImage
    from ome_zarr_models.v04.image import ImageAttrs
    from ome_zarr_models.v04.image_label import ImageLabel, ImageLabelAttrs
    from ome_zarr_models.v04.image_label_types import Label
    from ome_zarr_models.v04.multiscales import Dataset, Multiscale
    from ome_zarr_models.v04.omero import Channel, Omero, Window

    entries = [Axis(name=a.lower(), type=_TYPES[a], unit=calibration.axis_unit(a) if calibration else None) for a in axes]
    base = [(calibration.size(a) if calibration else None) or 1.0 for a in axes]
    datasets = tuple(
        Dataset.build(path=str(k), translation=None,
                      scale=[float(f"{b * (2.0**k if a in 'YX' else 1.0):.12g}") for a, b in zip(axes, base)])
        for k in range(len(shapes)))  # every level halves Y and X (odd sides round up)
    labels = kind == "labels"
    multiscale = Multiscale(axes=entries, datasets=datasets, name=name, version="0.4",
                            type="nearest" if labels else "mean",
                            metadata={"method": "every other pixel" if labels else "2x2 mean", "description": "img2img"})
    if labels:
        attrs = ImageLabelAttrs(multiscales=[multiscale], **{"image-label": Label(version="0.4")})
    else:
        channels = [Channel(color=colour, window=Window(min=low, max=high, start=low, end=high),
                            label=f"channel {k}", active=True, coefficient=1.0, family="linear", inverted=False)
                    for k, ((low, high), colour) in enumerate(zip(windows or [], _colours(len(windows or []))))]
        attrs = ImageAttrs(multiscales=[multiscale], omero=Omero(channels=channels, name=name, version="0.4") if channels else None)
    group.attrs.update(attrs.model_dump(by_alias=True, exclude_none=True, mode="json"))
    (ImageLabel if labels else NgffImage).from_zarr(group)  # the store as written, against the schema


def _colours(n: int) -> list[str]:
    return ["FFFFFF"] if n == 1 else [COLOURS[k % len(COLOURS)] for k in range(n)]


# --- metadata helpers ------------------------------------------------------------------------
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
