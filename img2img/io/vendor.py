"""Microscope vendors' files (Zeiss CZI, Nikon ND2, Leica LIF) read through bioio and its readers.

An optional extra: `pip install 'img2img-microscopy[formats]'` brings bioio with bioio-czi,
bioio-nd2 and bioio-lif. Without it (or without the one reader a file needs) reading such a file
is one line naming what to install. Pixels stay in the file as a dask array (`LazyPixels`) where
the reader allows it, so a plane is read when inference reaches it; the calibration comes from
bioio's physical pixel sizes (micrometres) and time interval. A file with several series (scenes,
positions) needs `--series` (a number or the scene's name); without it the error lists them with
their sizes. Axes of size 1 are dropped (bioio always gives T, C, Z, Y, X), RGB samples become C.
Reading only: results are written as TIFF or OME-Zarr.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import warnings
from pathlib import Path

import numpy as np

from img2img.errors import UserError, first_line
from img2img.io.lazy import LazyPixels
from img2img.io.metadata import Calibration, Image, calibration_or_none

NAME = "vendor (bioio)"
# suffix -> (bioio reader package, its module, what the file is)
READERS = {
    ".czi": ("bioio-czi", "bioio_czi", "Zeiss CZI"),
    ".nd2": ("bioio-nd2", "bioio_nd2", "Nikon ND2"),
    ".lif": ("bioio-lif", "bioio_lif", "Leica LIF"),
}
SUFFIXES = tuple(READERS)
FOLDER = False
EXTRA = "pip install 'img2img-microscopy[formats]'"


def reader_class(path: Path):
    """bioio's reader for `path`'s suffix, or a one-line error naming the extra to install."""
    package, module, what = READERS[path.suffix.lower()]
    if importlib.util.find_spec("bioio") is None or importlib.util.find_spec(module) is None:
        raise UserError(f"{path}: reading {what} files needs bioio and {package}, which are not installed; {EXTRA}")
    return importlib.import_module(module).Reader


def open_image(path: Path):
    """A `bioio.BioImage` of `path` with its vendor's reader; a damaged file is one line."""
    reader = reader_class(path)
    from bioio import BioImage

    with _quiet():
        try:
            return BioImage(path, reader=reader)
        except Exception as exc:  # each reader raises its own types for damaged files
            what = READERS[path.suffix.lower()][2]
            raise UserError(f"{path}: cannot read {what} ({first_line(exc, typed=True, limit=200)}); "
                            "is the file complete?") from None


def read(path: Path, lazy: bool = False, series: int | str | None = None) -> Image:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    image = open_image(path)
    return from_bioimage(image, path, lazy, series)


def from_bioimage(image, path: Path, lazy: bool, series: int | str | None) -> Image:
    """The chosen scene of an open `BioImage` as an `Image` (dask-backed when `lazy`)."""
    with _quiet():
        scenes = list(image.scenes)
        if series is None and len(scenes) > 1:
            raise UserError(f"{path}: holds {len(scenes)} series ({_describe(image, scenes)}); choose one with --series")
        if series is not None:
            image.set_scene(_scene_index(path, scenes, series))
        try:
            dims = image.dims
            order = "".join(d for d in "TCZYXS" if d in dims.order)
            sizes = {d: getattr(dims, d) for d in order}
            keep = "".join(d for d in order if sizes[d] > 1 or d in "YX")
            fixed = {d: 0 for d in order if d not in keep}
            pixels = image.get_image_dask_data(keep, **fixed)
            calibration = _calibration(image)
        except UserError:
            raise
        except Exception as exc:
            raise UserError(f"{path}: cannot read pixels ({first_line(exc, typed=True, limit=200)}); is the file complete?") from None
    if "S" in keep and "C" in keep:  # channels of RGB images: no axis of ours holds both
        raise UserError(f"{path}: has both channels and RGB samples; convert it to OME-TIFF in Fiji first")
    axes = keep.replace("S", "C")  # RGB samples are our channels
    data = LazyPixels(pixels, np.dtype(pixels.dtype), source=str(path))
    return Image(data=data if lazy else np.asarray(data), axes=axes, path=path, calibration=calibration)


def _scene_index(path: Path, scenes: list[str], series: int | str) -> int:
    text = str(series)
    if text in scenes:
        return scenes.index(text)
    if text.isdigit() and int(text) < len(scenes):
        return int(text)
    listed = ", ".join(f"{k} ({name})" for k, name in enumerate(scenes))
    raise UserError(f"{path}: --series {series}: no such series; it holds {len(scenes)}: {listed}")


def _describe(image, scenes: list[str]) -> str:
    parts = []
    for k, name in enumerate(scenes):
        try:
            image.set_scene(k)
            dims = image.dims
            shape = "x".join(str(getattr(dims, d)) for d in dims.order)
            parts.append(f"{k}: {name} {shape} {dims.order}")
        except Exception:  # noqa: BLE001 - a listing must not fail on one odd scene
            parts.append(f"{k}: {name}")
    with contextlib.suppress(Exception):
        image.set_scene(0)
    return "; ".join(parts)


def _calibration(image) -> Calibration | None:
    sizes = image.physical_pixel_sizes  # micrometres, None where unknown
    t = None
    interval = getattr(image, "time_interval", None)
    with contextlib.suppress(Exception):
        if interval is not None:
            t = interval.total_seconds() if hasattr(interval, "total_seconds") else float(getattr(interval, "magnitude", interval))
    known = any(v for v in (sizes.X, sizes.Y, sizes.Z))
    return calibration_or_none(Calibration(x=sizes.X, y=sizes.Y, z=sizes.Z, t=t, unit="micrometer" if known else None,
                                           time_unit="second" if t else None))


@contextlib.contextmanager
def _quiet():
    """bioio and its readers log and warn several lines per file; ours is one line."""
    logger = logging.getLogger("bioio")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
