"""TIFF in and out through tifffile: ImageJ hyperstacks, OME-TIFF and plain TIFF, any axes, 8/16/32-bit.

Read: the chosen series (an OME-TIFF may hold several images; one without `--series` is then an
error naming them), its axes and calibration (`io.metadata`). Uncompressed files can be
memory-mapped (`lazy`), so a 20k px plane is paged in as inference reaches it.

Write, chosen by name and content:
- `NAME.ome.tif(f)`: OME-TIFF, with the OME-XML pixel sizes and time increment, as Bio-Formats,
  Fiji and bioio read them.
- `NAME.tif`: an ImageJ hyperstack, so Fiji shows the axes, Z spacing, frame interval and unit as
  for its own files: axes in ImageJ's order (T, Z, C, Y, X; RGB as samples), 8/16-bit or float32.
  What ImageJ cannot hold (uint32 labels, other pixel types, planes above 4096² that need tiles,
  files above 4 GB) goes to OME-TIFF instead, which Fiji opens through Bio-Formats with the same
  calibration.
Every file is zlib-compressed and written under a temporary name, renamed into place when whole.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import tifffile

from img2img.errors import UserError, first_line
from img2img.io.atomic import atomic_path
from img2img.io.axes import canonical_axes
from img2img.io.metadata import Calibration, Image, imagej_metadata, ome_metadata, read_tiff_calibration
from img2img.io.names import TIFF_SUFFIXES, is_ome_tiff

NAME = "tiff"
SUFFIXES = (".ome.tif", ".ome.tiff", *sorted(TIFF_SUFFIXES))
FOLDER = False
# Planes larger than this are written as 256 px TIFF tiles (BigTIFF where needed), which Fiji
# (Bio-Formats) and napari read piecewise; ImageJ's own reader cannot, so they are OME-TIFF.
TILED_WRITE_PIXELS = 4096 * 4096
IMAGEJ_DTYPES = {np.dtype(t) for t in ("uint8", "uint16", "float32")}
IMAGEJ_ORDER = "TZCYXS"
IMAGEJ_BYTES = 2**32 - 2**25  # ImageJ TIFFs are not BigTIFF
# A lower ceiling than free memory for decoding one compressed TIFF (None: free memory); the fuzz
# tests set it, so damaged headers declaring gigabytes fail at once instead of being decoded.
DECODE_LIMIT_BYTES: int | None = None


# --- reading ---------------------------------------------------------------------------------
def read(path: Path, lazy: bool = False, series: int | str | None = None) -> Image:
    with _tifffile_complaints() as complaints:
        try:
            with tifffile.TiffFile(path) as tif:
                index = _series_index(tif, path, series)
                chosen = tif.series[index]
                data = _memory_map(tif, chosen) if lazy else None
                if data is None:
                    _check_fits_in_memory(path, chosen.shape, chosen.dtype)
                    data = chosen.asarray()
                axes = canonical_axes(chosen.axes)
                calibration = read_tiff_calibration(tif, index)
                shape = tuple(chosen.shape)
        except UserError:
            raise
        except Exception as exc:  # tifffile raises many types for damaged files (MemoryError too)
            raise UserError(f"{path}: cannot read TIFF ({first_line(exc, typed=True, limit=None)}); is the file complete?") from None
    # A damaged file can also come back as an empty or misshapen array, with only a log message.
    if data.size == 0 or tuple(data.shape) != shape or len(axes) != data.ndim:
        reason = complaints[0] if complaints else f"{data.shape} pixels for a {shape} image"
        raise UserError(f"{path}: cannot read TIFF ({reason}); is the file complete?")
    if complaints:
        warnings.warn(f"{path.name}: tifffile: {complaints[0]}", stacklevel=4)
    return Image(data=data, axes=axes, path=path, calibration=calibration)


def _series_index(tif, path: Path, series: int | str | None) -> int:
    """The series to read: the only image of most files; of an OME-TIFF with several images the
    one `series` names (its number or OME name), which must then be given."""
    images = [s for s in tif.series if not tif.is_ome or s.kind.lower() == "ome"] if tif.is_ome else tif.series[:1]
    if series is None:
        if len(images) > 1:
            raise UserError(f"{path}: holds {len(images)} images ({series_list(images)}); choose one with --series")
        return 0
    return pick_series(path, [s.name or str(k) for k, s in enumerate(images)], series)


def series_list(images) -> str:
    return "; ".join(f"{k}: {s.name + ' ' if s.name else ''}{'x'.join(map(str, s.shape))} {s.axes}"
                     for k, s in enumerate(images))


def pick_series(path: Path, names: list[str], series: int | str) -> int:
    """The index of `series` (a number or a name) among `names`, or a one-line error listing them."""
    text = str(series)
    if text.isdigit() and int(text) < len(names):
        return int(text)
    if text in names:
        return names.index(text)
    listed = ", ".join(f"{k} ({n})" if n != str(k) else str(k) for k, n in enumerate(names))
    raise UserError(f"{path}: --series {series}: no such series; it holds {len(names)}: {listed}")


def _check_fits_in_memory(path: Path, shape: tuple[int, ...], dtype) -> None:
    """A compressed TIFF is decoded whole: one whose header declares more pixels than this machine
    can hold (a damaged header, or a real giant) is one line, not the out-of-memory killer."""
    needed = math.prod(shape) * np.dtype(dtype).itemsize
    available = _available_memory()
    if DECODE_LIMIT_BYTES is not None:
        available = min(available or DECODE_LIMIT_BYTES, DECODE_LIMIT_BYTES)
    if available is not None and needed > available:
        raise UserError(f"{path}: declares {'x'.join(map(str, shape))} {np.dtype(dtype)} pixels ({needed / 2**30:.1f} GiB), "
                        f"more than the {available / 2**30:.1f} GiB of free memory; if the file is whole, save it "
                        "uncompressed (read piece by piece) or as OME-Zarr")


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _tifffile_complaints():
    """Collect what tifffile logs while reading (instead of letting it print several lines),
    so a damaged file gives one line of ours."""
    logger = logging.getLogger("tifffile")
    complaints: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            complaints.append(record.getMessage().splitlines()[0][:200])

    handler, propagate = Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield complaints
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _memory_map(tif: tifffile.TiffFile, series) -> np.ndarray | None:
    """A read-only memory map of `series` when it is stored uncompressed and contiguous."""
    if series.dataoffset is None or series.dtype.byteorder not in "=|" + ("<" if np.little_endian else ">"):
        return None
    return np.memmap(tif.filehandle.path, dtype=series.dtype, mode="r", offset=series.dataoffset, shape=series.shape)


# --- writing ---------------------------------------------------------------------------------
def write(path: Path, data: np.ndarray, axes: str | None, calibration: Calibration | None = None,
          kind: str = "image") -> None:
    """Write `data` to `path` atomically: OME-TIFF by name, else an ImageJ hyperstack where ImageJ
    can hold it, else OME-TIFF."""
    axes = canonical_axes(axes) if axes else None
    ome = is_ome_tiff(path) or not imagej_fits(data, axes)
    options = dict(compression="zlib", **tile_options(data.shape, axes))
    if ome:
        arguments = ome_arguments(data.shape, data.dtype, axes, calibration)
    else:
        data, ij_axes = imagej_layout(data, axes)
        resolution, entries = imagej_metadata(calibration)
        arguments = dict(imagej=True, photometric="rgb" if ij_axes.endswith("S") else "minisblack",
                         metadata={"axes": ij_axes, **entries}, **resolution)
    with atomic_path(path) as tmp:
        _imwrite(tmp, data, **arguments, **options)


def _imwrite(tmp: Path, data: np.ndarray, **arguments) -> None:
    """tifffile's writer on the temporary file (a seam for tests of full disks and races)."""
    tifffile.imwrite(tmp, data, **arguments)


def ome_arguments(shape: tuple[int, ...], dtype, axes: str | None, calibration: Calibration | None) -> dict:
    """tifffile.imwrite arguments of an OME-TIFF: axes in the order given (channels after Y and X
    as samples of each pixel), OME-XML calibration, and the same pixel size in the resolution tags
    for readers that look only there."""
    samples = bool(axes) and axes.endswith("YXC")
    rgb = samples and _rgb(axes, dtype, shape)
    metadata = {**({"axes": axes[:-1] + "S" if samples else axes} if axes else {}), **ome_metadata(calibration)}
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    return dict(ome=True, photometric="rgb" if rgb else "minisblack", metadata=metadata, bigtiff=nbytes > 2**31,
                **({"planarconfig": "contig"} if samples else {}),
                **(calibration.tiff_resolution() if calibration else {}))


def tile_options(shape: tuple[int, ...], axes: str | None) -> dict:
    plane = _plane(shape, axes)
    return {"tile": (256, 256)} if plane[0] * plane[1] > TILED_WRITE_PIXELS else {}


def imagej_fits(data: np.ndarray, axes: str | None) -> bool:
    """Whether an ImageJ hyperstack holds `data` as it is: pixel type, axes already in ImageJ's
    order (T, Z, C, Y, X, or RGB samples last), an untiled plane, a file under 4 GB."""
    if np.dtype(data.dtype) not in IMAGEJ_DTYPES or data.nbytes > IMAGEJ_BYTES:
        return False
    axes = axes or ("YX" if data.ndim == 2 else "")
    if not axes or set(axes) - set("TZCYX") or len(set(axes)) != len(axes) or not {"Y", "X"} <= set(axes):
        return False
    rgb = _rgb(axes, data.dtype, data.shape) and data.shape[-1] == 3  # RGBA goes to OME-TIFF
    body = axes[:-1] if rgb else axes
    if body != "".join(a for a in IMAGEJ_ORDER if a in body):
        return False  # ImageJ would reorder the axes; OME-TIFF keeps them
    plane = _plane(data.shape, axes)
    return plane[0] * plane[1] <= TILED_WRITE_PIXELS


def imagej_layout(data: np.ndarray, axes: str | None) -> tuple[np.ndarray, str]:
    """`data` with ImageJ's axis letters (RGB channels are samples, S)."""
    axes = axes or "YX"
    return data, axes[:-1] + "S" if _rgb(axes, data.dtype, data.shape) else axes


def _rgb(axes: str, dtype, shape: tuple[int, ...]) -> bool:
    """Colour samples: channels last, right after Y and X, three or four of them, 8-bit."""
    return axes.endswith("YXC") and np.dtype(dtype) == np.uint8 and shape[-1] in (3, 4)


def _plane(shape: tuple[int, ...], axes: str | None) -> tuple[int, int]:
    if axes and "Y" in axes and "X" in axes:
        return shape[axes.index("Y")], shape[axes.index("X")]
    return (shape[-3], shape[-2]) if len(shape) >= 3 and shape[-1] in (3, 4) else (shape[-2], shape[-1])
