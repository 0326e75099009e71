"""Write-then-rename, so an interrupted run never leaves a truncated output file (or store).

A result is written beside its destination as `.NAME.tmp-HOST-PID[tag].ext`: hidden (folder
listings skip it), with the real suffix (writers pick the format from it), and naming its owner.
The owner matters because several runs may write into one folder at once (a SLURM array on a
shared file system, a user starting a second run): a run that tidies up what killed runs left
must never delete the file another, live run is still writing. So only temporaries of this host
whose process is gone count as leftovers; another host's processes cannot be checked from here,
and theirs are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path


def _host_name() -> str:
    """This machine's name, reduced to characters that are safe in a file name on any system."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:63] or "host"


HOST = _host_name()
# After `.NAME.tmp-`: HOST-PID, then an optional tag made of letters (e.g. "-old"), before the suffix.
# Names from before hosts were recorded (`.NAME.tmp-PID.ext`) have no HOST.
_OWNER = re.compile(r"(?:(?P<host>.+)-)?(?P<pid>\d+)(?:-[A-Za-z]+)?")


def temporary_name(path: Path, tag: str = "", host: str | None = None, pid: int | None = None) -> Path:
    """`.NAME.tmp-HOST-PID[tag].ext` beside `path`, owned by this process unless `host`/`pid` say
    otherwise; `tag` (letters after a dash, e.g. "-old") tells apart several of one owner."""
    owner = f"{host or HOST}-{os.getpid() if pid is None else pid}"
    return path.with_name(f".{path.stem}.tmp-{owner}{tag}{path.suffix}")


def temporary_owner(temporary: Path, path: Path) -> tuple[str | None, int] | None:
    """(host, pid) that made `temporary`, a temporary of `path`; host None for the older names
    without one; None if `temporary` is not a temporary of `path`."""
    prefix, suffix = f".{path.stem}.tmp-", path.suffix
    name = temporary.name
    if not name.startswith(prefix) or not name.endswith(suffix) or len(name) <= len(prefix) + len(suffix):
        return None
    match = _OWNER.fullmatch(name[len(prefix) : len(name) - len(suffix)])
    return (match["host"], int(match["pid"])) if match else None


def temporaries(path: Path, names: list[str] | None = None) -> list[Path]:
    """Every temporary of `path` beside it, whoever owns it (listed without glob, so names with
    glob characters such as '[' work). `names`: the folder's listing, where the caller has it
    (one listing for many outputs of one folder)."""
    if names is None:
        try:
            names = os.listdir(path.parent)
        except OSError:  # no folder yet: nothing was left
            return []
    return sorted(path.parent / n for n in names if temporary_owner(path.parent / n, path) is not None)


def leftover_temporaries(path: Path, names: list[str] | None = None) -> list[Path]:
    """Temporaries of `path` that a killed or crashed run left: made on this host (older names
    without a host count as this host's) by a process that no longer runs. Safe to delete.

    Another live process's temporary is in progress; another host's cannot be checked from here.
    Both are left alone. A process id in use again by a process younger than the file (Linux)
    does not keep a dead run's temporary.
    """
    found = []
    for temporary in temporaries(path, names):
        host, pid = temporary_owner(temporary, path)
        if host in (None, HOST) and (not process_alive(pid) or _younger_than(pid, temporary)):
            found.append(temporary)
    return found


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours included)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, under another user
        return True
    except OSError:
        return True  # cannot tell: keep its files
    return True


def _younger_than(pid: int, temporary: Path, slack: float = 2.0) -> bool:
    """Whether process `pid` started after `temporary` was last written, so it cannot be the
    writer (its id was reused). From /proc on Linux; elsewhere it cannot tell (False)."""
    try:
        with open(f"/proc/{pid}/stat") as f:  # field 22, after the parenthesised name: start in ticks since boot
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
        return started > temporary.lstat().st_mtime + slack
    except (OSError, ValueError, IndexError, StopIteration):
        return False


def remove_temporary(path: Path) -> None:
    """Delete a temporary file or store (a folder); gone already is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


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
        _replace_directory(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _replace_directory(tmp: Path, path: Path, attempts: int = 5) -> None:
    """Rename `tmp` onto `path`, moving an existing store aside first.

    Another run writing the same result may put its store in place between our look and our
    rename (the rename then fails: not empty); anything at `path` is complete, so it is moved
    aside and replaced like an older result. On any other failure the older result comes back.
    """
    old = temporary_name(path, "-old")
    for attempt in range(attempts):
        moved = False
        if path.is_dir() and not path.is_symlink():
            try:
                os.replace(path, old)
                moved = True
            except FileNotFoundError:  # another run moved it meanwhile
                pass
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if moved:
                with contextlib.suppress(OSError):
                    os.replace(old, path)
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and attempt + 1 < attempts:
                continue
            raise
        finally:
            if moved and old.exists():
                shutil.rmtree(old, ignore_errors=True)
        return
