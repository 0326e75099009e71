"""Which module reads and writes a file, chosen by its name: one line per format.

A format is one module with `NAME`, `SUFFIXES` (compound ones such as `.ome.tif` included),
`FOLDER` (a store that is a folder, e.g. OME-Zarr) and `read(path, lazy, series) -> Image`; a
format that can be written adds `write(path, data, axes, calibration, kind)` (atomic: the file
appears only when whole), and one that can take a result band by band adds `create(...)`. To add a
format, write its module and list it in `FORMATS`; `read_image`, `write_image`, `list_images`,
`img2img infer` and its `--name` check follow (tests/test_io.py adds one this way).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from img2img.errors import UserError
from img2img.io import ome_zarr, opencv_files, tiff, vendor
from img2img.io.names import COMPOUND_SUFFIXES

FORMATS: list[ModuleType] = [tiff, ome_zarr, opencv_files, vendor]
# Spellings left out of the lists in messages (the short one is listed).
_SYNONYMS = {".jpeg", ".tiff", ".ome.tiff"}


def by_suffix() -> dict[str, ModuleType]:
    table: dict[str, ModuleType] = {}
    for module in FORMATS:
        for suffix in module.SUFFIXES:
            table.setdefault(suffix, module)
    return table


def read_suffixes() -> frozenset[str]:
    return frozenset(by_suffix())


def write_suffixes() -> frozenset[str]:
    return frozenset(s for s, m in by_suffix().items() if hasattr(m, "write"))


def suffix_of(path: str | Path) -> str:
    """The suffix that names `path`'s format, compound ones (`.ome.tif`) first, in lower case."""
    name = Path(path).name.lower()
    suffixes = sorted({*by_suffix(), *COMPOUND_SUFFIXES}, key=len, reverse=True)
    return next((s for s in suffixes if name.endswith(s) and len(name) > len(s)), Path(name).suffix)


def format_for(path: str | Path) -> ModuleType | None:
    return by_suffix().get(suffix_of(path))


def writer_for(path: str | Path) -> ModuleType:
    """The format that writes `path`, or a one-line error listing the suffixes we write."""
    module = format_for(path)
    if module is None or not hasattr(module, "write"):
        raise UserError(f"{path}: cannot write '{suffix_of(path)}' files; use one of {writable_list()}")
    return module


def writable_list() -> str:
    return ", ".join(sorted(write_suffixes() - _SYNONYMS))


def readable_list() -> str:
    return ", ".join(sorted(read_suffixes() - _SYNONYMS - {".ome.tif", ".ome.zarr"}))
