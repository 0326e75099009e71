"""File names of images: which suffix names a format, and the stem a result is named after.

A few formats have compound suffixes (`.ome.tif`, `.ome.tiff`, `.ome.zarr`): the `.ome` belongs to
the format, not to the name, so `cells.ome.tif` has the stem `cells` and `--name '{stem}.ome.zarr'`
makes `cells.ome.zarr`, not `cells.ome.ome.zarr`. A leaf module: every reader, writer and the
output planning use it, and it imports nothing of ours.
"""

from __future__ import annotations

from pathlib import Path

TIFF_SUFFIXES = {".tif", ".tiff"}
OPENCV_SUFFIXES = {".png", ".jpg", ".jpeg"}
IMAGE_SUFFIXES = TIFF_SUFFIXES | OPENCV_SUFFIXES
ZARR_SUFFIX = ".zarr"  # a folder: an OME-NGFF image
OME_TIFF_SUFFIXES = (".ome.tif", ".ome.tiff")
# Longest first, so `.ome.tif` is taken before `.tif`.
COMPOUND_SUFFIXES = (".ome.tiff", ".ome.zarr", ".ome.tif")


def full_suffix(path: str | Path) -> str:
    """The format's suffix in lower case: `.ome.tif` for `a.ome.tif`, `.tif` for `a.b.tif`."""
    name = Path(path).name.lower()
    for suffix in COMPOUND_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return Path(name).suffix


def image_stem(path: str | Path) -> str:
    """The name without its format's suffix: `cells.ome.zarr`, `cells.ome.tif` -> `cells`."""
    name = Path(path).name
    return name[: len(name) - len(full_suffix(name))] if full_suffix(name) else name


def is_zarr(path: str | Path) -> bool:
    """Whether `path` names an OME-Zarr image (a folder `NAME.zarr`, usually `NAME.ome.zarr`)."""
    return Path(path).suffix.lower() == ZARR_SUFFIX


def is_ome_tiff(path: str | Path) -> bool:
    """Whether the name says OME-TIFF (`.ome.tif`, `.ome.tiff`)."""
    return full_suffix(path) in OME_TIFF_SUFFIXES
