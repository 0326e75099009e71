"""Write-then-rename, so an interrupted run never leaves a truncated output file (or store)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def temporary_name(path: Path, tag: str = "") -> Path:
    """`.NAME.tmp-PID[tag].ext` beside `path`: hidden, and found again by `leftover_temporaries`."""
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{tag}{path.suffix}")


def leftover_temporaries(path: Path) -> list[Path]:
    """Temporaries of `path` that any process (a killed run too) left beside it."""
    return sorted(path.parent.glob(f".{path.stem}.tmp-*{path.suffix}"))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The temporary name keeps the real suffix so that writers which pick a format from the
    extension (OpenCV, tifffile) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """`atomic_path` for a directory (an OME-Zarr store): the block fills a temporary directory,
    which replaces `path` only when complete; on failure it is removed.

    A directory cannot be renamed onto a non-empty one, so an older result is first moved aside
    and deleted after the new one is in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            old = temporary_name(path, "-old")
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except OSError:
                os.replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
