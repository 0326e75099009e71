"""Reading and writing images with their axes, pixel type and calibration kept.

The format is chosen by the file name (`io.formats`): TIFF (ImageJ, OME-TIFF) through tifffile,
PNG/JPG through OpenCV, OME-Zarr folders (`NAME.ome.zarr`) through `io.ome_zarr`, and vendor files
(CZI, ND2, LIF) through bioio (`io.vendor`, an optional extra). Every failure a user can cause
ends in a one-line `UserError` that names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from skimage.segmentation import relabel_sequential

from img2img.errors import UserError, first_line
from img2img.io import formats
from img2img.io.axes import guess_axes
from img2img.io.metadata import Calibration, Image
from img2img.io.names import (  # noqa: F401 - the names callers import from here
    IMAGE_SUFFIXES, OPENCV_SUFFIXES, TIFF_SUFFIXES, ZARR_SUFFIX, image_stem, is_zarr,
)
from img2img.io.tiff import TILED_WRITE_PIXELS  # noqa: F401

# Pixel types a model can take as input; float64 and int16 are widened/narrowed to float32.
IMAGE_DTYPES = {np.dtype(t) for t in ("uint8", "uint16", "float32")}
CONVERTIBLE_DTYPES = {np.dtype(t) for t in ("float64", "float16", "int16", "int8")}


def read_image(path: str | Path, lazy: bool = False, series: int | str | None = None) -> Image:
    """Read an image; pixel types outside 8/16-bit and float32 are a clear error.

    `lazy`: memory-map uncompressed TIFFs, and leave OME-Zarr and vendor pixels in their store, so
    a 20k px plane is paged in tile by tile as inference reaches it. `series`: which image of a
    file that holds several (a number or its name); such a file without it is an error listing them.
    """
    image = read_image_raw(Path(path), lazy=lazy, series=series)
    image.data = _supported_pixels(image.data, image.path)
    return image


def read_labels(path: str | Path, ndim: int | tuple[int, ...] = 2) -> np.ndarray:
    """Read an instance label image (any integer type) with labels renumbered 1..N: 2D, or of the
    dimensions `ndim` allows (e.g. (2, 3) for label volumes, ZYX).

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
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if data.ndim not in allowed:
        what = "one 2D label image" if allowed == (2,) else " or ".join(f"{n}D" for n in allowed) + " labels"
        raise UserError(f"{path}: a mask must be {what}, got shape {data.shape}")
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
        if data.ndim == 2:
            raise UserError(f"{path}: more than 65535 objects in one mask; split the image")
        return labels.astype(np.uint32)
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


def read_image_raw(path: str | Path, lazy: bool = False, series: int | str | None = None) -> Image:
    """Read without the pixel-type check (masks may be int32, bool, ...)."""
    path = Path(path)
    module = formats.format_for(path)
    if module is None:
        if path.is_dir():
            raise UserError(f"{path}: a folder, not an image; give OME-Zarr stores as NAME.ome.zarr")
        if not path.exists():
            raise UserError(f"{path}: no such file")
        raise UserError(f"{path}: unsupported file type '{formats.suffix_of(path) or path.name}'; use one of {formats.readable_list()}")
    if not module.FOLDER and not path.is_file():
        raise UserError(f"{path}: no such file")
    if series is not None and module in (formats.opencv_files,):
        raise UserError(f"{path}: --series {series}: a {formats.suffix_of(path)} file holds one image")
    return module.read(path, lazy=lazy, series=series)


def write_image(
    path: str | Path, data: np.ndarray, axes: str | None = None, resolution: Calibration | None = None,
    kind: str = "image",
) -> Path:
    """Write atomically (temporary name, then rename) so no truncated file is ever left behind.

    TIFF and OME-Zarr keep `axes` and the calibration `resolution`; PNG/JPG hold neither. `kind`:
    "labels" for a segmentation (OME-Zarr then writes NGFF labels metadata), else "image".
    """
    path = Path(path)
    module = formats.writer_for(path)
    module.write(path, data, axes or guess_axes(data.shape), resolution, kind=kind)
    return path


def list_images(folder: str | Path, pattern: str = "*") -> list[Path]:
    """Image files and OME-Zarr folders in a folder, sorted by name; hidden and temporary ones are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    return sorted(
        p for p in folder.glob(pattern)
        if not p.name.startswith(".")
        and ((p.is_file() and formats.suffix_of(p) in formats.read_suffixes() and not is_zarr(p)) or (is_zarr(p) and p.is_dir()))
    )


def _supported_pixels(data: np.ndarray, path: Path) -> np.ndarray:
    if data.dtype in IMAGE_DTYPES:
        return data
    if data.dtype in CONVERTIBLE_DTYPES:
        return data.astype(np.float32)
    raise UserError(
        f"{path}: pixel type {data.dtype} is not supported; convert to 8-bit, 16-bit or 32-bit float"
    )


