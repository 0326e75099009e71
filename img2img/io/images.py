"""Reading and writing images with their axes and pixel type kept.

TIFF goes through tifffile (any axes, 8/16-bit and float); PNG/JPG through OpenCV; OME-Zarr
folders (`NAME.ome.zarr`) through `io.ome_zarr`, imported only when one is met (zarr takes 0.5 s).
Every failure a user can cause ends in a one-line `UserError` that names the file.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image as PILImage
from skimage.segmentation import relabel_sequential

from img2img.errors import UserError, first_line
from img2img.io.atomic import atomic_path
from img2img.io.axes import canonical_axes, guess_axes
from img2img.io.metadata import Resolution, read_resolution

TIFF_SUFFIXES = {".tif", ".tiff"}
OPENCV_SUFFIXES = {".png", ".jpg", ".jpeg"}
IMAGE_SUFFIXES = TIFF_SUFFIXES | OPENCV_SUFFIXES
ZARR_SUFFIX = ".zarr"  # a folder: an OME-NGFF image

# Planes larger than this are written as 256 px TIFF tiles (BigTIFF where needed), which
# Fiji and napari read piecewise.
TILED_WRITE_PIXELS = 4096 * 4096

# Pixel types a model can take as input; float64 and int16 are widened/narrowed to float32.
IMAGE_DTYPES = {np.dtype(t) for t in ("uint8", "uint16", "float32")}
CONVERTIBLE_DTYPES = {np.dtype(t) for t in ("float64", "float16", "int16", "int8")}


@dataclass
class Image:
    """Pixels plus the axis string ('YX', 'YXC', 'CYX', 'ZYX', ...) they were stored with."""

    data: np.ndarray  # or, read lazily from OME-Zarr, `io.lazy.LazyPixels`
    axes: str
    path: Path | None = None
    resolution: Resolution | None = None


def read_image(path: str | Path, lazy: bool = False) -> Image:
    """Read a TIFF/PNG/JPG; pixel types outside 8/16-bit and float32 are a clear error.

    `lazy`: memory-map uncompressed TIFFs instead of reading them, and leave OME-Zarr pixels in
    their store, so a 20k px plane is paged in tile by tile as inference reaches it.
    """
    image = read_image_raw(Path(path), lazy=lazy)
    image.data = _supported_pixels(image.data, image.path)
    return image


def read_labels(path: str | Path) -> np.ndarray:
    """Read a 2D instance label image (any integer type) with labels renumbered 1..N.

    Palette PNGs (what many annotation tools save) are read as their indices, and a gray mask
    stored as three equal RGB channels is accepted. Renumbering keeps memory proportional to
    the number of objects even when ids are sparse (e.g. 30000000).
    """
    path = Path(path)
    data = _read_png_indices(path) if path.suffix.lower() == ".png" else read_image_raw(path).data
    data = np.squeeze(data)
    gray_as_rgb = path.suffix.lower() in OPENCV_SUFFIXES and data.ndim == 3 and data.shape[-1] in (3, 4)
    if gray_as_rgb and np.all(data[..., :3] == data[..., :1]):
        data = data[..., 0]
    if data.ndim != 2:
        raise UserError(f"{path}: a mask must be one 2D label image, got shape {data.shape}")
    if data.dtype.kind == "f":
        if not np.all(np.equal(np.mod(data, 1), 0)):
            raise UserError(f"{path}: mask has fractional values; save integer instance labels (0 = background)")
        data = data.astype(np.int64)
    if data.dtype.kind not in "iub":
        raise UserError(f"{path}: mask pixel type {data.dtype} is not an integer label type")
    if data.dtype.kind == "i" and data.min() < 0:
        raise UserError(f"{path}: mask has negative labels; use 0 for background and 1..N for objects")
    labels = relabel_sequential(data.astype(np.int64))[0]
    if labels.max() > np.iinfo(np.uint16).max:
        raise UserError(f"{path}: more than 65535 objects in one mask; split the image")
    return labels.astype(np.uint16)


def _read_png_indices(path: Path) -> np.ndarray:
    """PNG via Pillow, which keeps palette indices where OpenCV would expand them to colours."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        with PILImage.open(path) as png:
            return np.asarray(png)
    except Exception as exc:
        raise UserError(f"{path}: cannot read PNG ({first_line(exc, typed=True, limit=None)}); is the file complete?") from None


def read_image_raw(path: str | Path, lazy: bool = False) -> Image:
    """Read without the pixel-type check (masks may be int32, bool, ...)."""
    path = Path(path)
    if is_zarr(path):
        return _read_zarr(path, lazy)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES:
        return _read_tiff(path, lazy)
    if suffix in OPENCV_SUFFIXES:
        return _read_opencv(path)
    raise UserError(f"{path}: unsupported file type '{suffix}'; use one of {sorted(IMAGE_SUFFIXES | {ZARR_SUFFIX})}")


def write_image(
    path: str | Path, data: np.ndarray, axes: str | None = None, resolution: Resolution | None = None
) -> Path:
    """Write atomically (temporary name, then rename) so no truncated file is ever left behind.

    TIFFs and OME-Zarr keep `axes` and the pixel size `resolution`; PNG/JPG hold neither.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ZARR_SUFFIX:
        from img2img.io import ome_zarr

        return ome_zarr.write(path, data, axes or guess_axes(data.shape), resolution)
    if suffix not in IMAGE_SUFFIXES:
        raise UserError(f"{path}: cannot write '{suffix}' files; use .tif, .png, .jpg or .zarr")
    with atomic_path(path) as tmp:
        if suffix in TIFF_SUFFIXES:
            _write_tiff(tmp, data, axes, resolution)
        else:
            _write_opencv(tmp, data, path)
    return path


def list_images(folder: str | Path, pattern: str = "*") -> list[Path]:
    """Image files and OME-Zarr folders in a folder, sorted by name; hidden and temporary ones are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    return sorted(
        p for p in folder.glob(pattern)
        if not p.name.startswith(".")
        and ((p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) or (is_zarr(p) and p.is_dir()))
    )


def is_zarr(path: str | Path) -> bool:
    """Whether `path` names an OME-Zarr image (a folder `NAME.zarr`, usually `NAME.ome.zarr`)."""
    return Path(path).suffix.lower() == ZARR_SUFFIX


def image_stem(path: str | Path) -> str:
    """The name without its suffix; `cells.ome.zarr` -> `cells` (the '.ome' belongs to the format)."""
    path = Path(path)
    if is_zarr(path) and path.stem.lower().endswith(".ome"):
        return path.stem[: -len(".ome")]
    return path.stem


def _read_zarr(path: Path, lazy: bool) -> Image:
    from img2img.io import ome_zarr

    if not path.is_dir():
        raise UserError(f"{path}: no such OME-Zarr folder")
    data, axes, resolution = ome_zarr.read(path, lazy)
    return Image(data=data, axes=axes, path=path, resolution=resolution)


def _read_tiff(path: Path, lazy: bool = False) -> Image:
    with _tifffile_complaints() as complaints:
        try:
            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                data = _memory_map(tif) if lazy else None
                if data is None:
                    _check_fits_in_memory(path, series.shape, series.dtype)
                    data = series.asarray()
                axes = canonical_axes(series.axes)
                resolution = read_resolution(tif)
        except UserError:
            raise
        except Exception as exc:  # tifffile raises many types for damaged files (MemoryError too)
            raise UserError(f"{path}: cannot read TIFF ({first_line(exc, typed=True, limit=None)}); is the file complete?") from None
    # A damaged file can also come back as an empty or misshapen array, with only a log message.
    if data.size == 0 or tuple(data.shape) != tuple(series.shape) or len(axes) != data.ndim:
        reason = complaints[0] if complaints else f"{data.shape} pixels for a {series.shape} image"
        raise UserError(f"{path}: cannot read TIFF ({reason}); is the file complete?")
    if complaints:
        warnings.warn(f"{path.name}: tifffile: {complaints[0]}", stacklevel=3)
    return Image(data=data, axes=axes, path=path, resolution=resolution)


# A lower ceiling than free memory for decoding one compressed TIFF (None: free memory); the fuzz
# tests set it, so damaged headers declaring gigabytes fail at once instead of being decoded.
DECODE_LIMIT_BYTES: int | None = None


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


def _memory_map(tif: tifffile.TiffFile) -> np.ndarray | None:
    """A read-only memory map of the first series when it is stored uncompressed and contiguous."""
    series = tif.series[0]
    if series.dataoffset is None or series.dtype.byteorder not in "=|" + ("<" if np.little_endian else ">"):
        return None
    return np.memmap(tif.filehandle.path, dtype=series.dtype, mode="r", offset=series.dataoffset, shape=series.shape)


def _read_opencv(path: Path) -> Image:
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise UserError(f"{path}: cannot read image; is the file complete and really a {path.suffix} file?")
    if data.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if data.shape[2] == 4 else cv2.COLOR_BGR2RGB
        data = cv2.cvtColor(data, code)
        return Image(data=data, axes="YXC", path=path)
    return Image(data=data, axes="YX", path=path)


def _write_tiff(tmp: Path, data: np.ndarray, axes: str | None, resolution: Resolution | None = None) -> None:
    rgb = axes in ("YXC", "YXS") and data.ndim == 3 and data.shape[-1] in (3, 4) and data.dtype == np.uint8
    metadata = {"axes": axes.replace("C", "S") if rgb else axes} if axes else None
    plane = data.shape[-3:-1] if rgb else data.shape[-2:]
    tiled = len(plane) == 2 and plane[0] * plane[1] > TILED_WRITE_PIXELS
    tifffile.imwrite(
        tmp, data, photometric="rgb" if rgb else "minisblack", metadata=metadata, compression="zlib",
        tile=(256, 256) if tiled else None, bigtiff=data.nbytes > 2**31,
        **(resolution.tiff_arguments() if resolution else {}),
    )


def _write_opencv(tmp: Path, data: np.ndarray, path: Path) -> None:
    if data.dtype not in (np.uint8, np.uint16):
        raise UserError(f"{path}: PNG/JPG hold 8/16-bit pixels, not {data.dtype}; write a .tif instead")
    if data.ndim == 3 and data.shape[2] in (3, 4):
        data = cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(tmp), data):
        raise UserError(f"{path}: OpenCV could not write this image (shape {data.shape}, {data.dtype})")


def _supported_pixels(data: np.ndarray, path: Path) -> np.ndarray:
    if data.dtype in IMAGE_DTYPES:
        return data
    if data.dtype in CONVERTIBLE_DTYPES:
        return data.astype(np.float32)
    raise UserError(
        f"{path}: pixel type {data.dtype} is not supported; convert to 8-bit, 16-bit or 32-bit float"
    )


