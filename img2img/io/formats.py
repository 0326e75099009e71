"""Which module reads and writes a file, chosen by its name: one line per format.

A format is one module with `NAME`, `SUFFIXES` (compound ones such as `.ome.tif` included),
`FOLDER` (a store that is a folder, e.g. OME-Zarr) and `read(path, lazy, series) -> Image`; a
format that can be written adds `write(path, data, axes, calibration, kind)` (atomic: the file
appears only when whole), and one that can take a result band by band adds `create(...)`. To add a
format, write its module and list it here; `img2img infer`, `list_images` and `--name` follow.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from img2img.errors import UserError
from img2img.io import ome_zarr, opencv_files, tiff, vendor
from img2img.io.names import full_suffix

FORMATS: tuple[ModuleType, ...] = (tiff, ome_zarr, opencv_files, vendor)


def _by_suffix() -> dict[str, ModuleType]:
    table = {}
    for module in FORMATS:
        for suffix in module.SUFFIXES:
            table.setdefault(suffix, module)
    return table


BY_SUFFIX = _by_suffix()
READ_SUFFIXES = frozenset(BY_SUFFIX)
WRITE_SUFFIXES = frozenset(s for s, m in BY_SUFFIX.items() if hasattr(m, "write"))
FOLDER_SUFFIXES = frozenset(s for s, m in BY_SUFFIX.items() if m.FOLDER)


def suffix_of(path: str | Path) -> str:
    """The suffix that names `path`'s format: `.ome.tif` if listed, else the last one."""
    suffix = full_suffix(path)
    return suffix if suffix in BY_SUFFIX else Path(path).suffix.lower()


def format_for(path: str | Path) -> ModuleType | None:
    return BY_SUFFIX.get(suffix_of(path))


def writer_for(path: str | Path) -> ModuleType:
    """The format that writes `path`, or a one-line error listing the suffixes we write."""
    module = format_for(path)
    if module is None or not hasattr(module, "write"):
        raise UserError(f"{path}: cannot write '{suffix_of(path)}' files; use one of {writable_list()}")
    return module


def writable_list() -> str:
    return ", ".join(sorted(WRITE_SUFFIXES - {".jpeg", ".tiff", ".ome.tiff"}))


def readable_list() -> str:
    return ", ".join(sorted(READ_SUFFIXES - {".jpeg", ".tiff", ".ome.tiff", ".ome.tif", ".ome.zarr"}))
