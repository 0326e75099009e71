"""Which files a batch run reads and writes, decided and checked before any work starts.

Nothing is overwritten that should not be: no output may be an input, no two inputs may write
the same file, and results do not land beside their inputs under the inputs' own names. Nothing
is written outside the output folder (patterns and name templates are checked), and a folder
that cannot take the results is refused before the model is loaded.
"""

from __future__ import annotations

import errno
import os
import string
from dataclasses import dataclass
from pathlib import Path, PurePath

from img2img.errors import UserError
from img2img.io.atomic import temporary_name
from img2img.io.formats import read_suffixes, readable_list, suffix_of, writable_list, write_suffixes
from img2img.io.images import image_stem, is_zarr, list_images
from img2img.io.names import is_ome_tiff

DEFAULT_TEMPLATE = "{stem}.tif"
TEMPLATE_FIELDS = {"stem", "name", "suffix"}


@dataclass(frozen=True)
class Job:
    source: Path
    destination: Path
    probabilities: Path | None = None
    series: int | str | None = None  # which image of a file that holds several (--series)

    def outputs(self) -> list[Path]:
        return [p for p in (self.destination, self.probabilities) if p is not None]

    def done(self) -> bool:
        """Outputs (files, or OME-Zarr folders) are renamed into place only when complete, so
        existing means finished."""
        return all(p.is_dir() if is_zarr(p) else p.is_file() for p in self.outputs())


def find_inputs(inputs: list[Path], pattern: str = "*", recursive: bool = False) -> list[tuple[Path, Path]]:
    """(file, folder of its result relative to the output folder) for every input image.

    `pattern` is matched inside each input folder and may not leave it ('..', absolute paths),
    because a result's place in the output mirrors its file's place in the input folder. With
    `recursive`, subfolders are searched and mirrored too: symlinked folders are followed, but each
    real folder only once, so a link loop ends and no image is run twice. An OME-Zarr folder
    (`*.zarr`) is one image, never searched.
    """
    check_pattern(pattern)
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        if is_zarr(item) and item.is_dir():
            found.append((item, Path()))
        elif item.is_dir():
            folders = [item] + (_subfolders(item) if recursive else [])
            files = _once_each(p for folder in folders for p in _glob(folder, pattern))
            found += [(f, f.parent.relative_to(item)) for f in files]
        elif item.is_file():
            if suffix_of(item) not in read_suffixes():
                raise UserError(f"{item}: not an image file ({readable_list()})")
            found.append((item, Path()))
        else:
            raise UserError(f"{item}: no such file or folder")
    if not found:
        where = ", ".join(map(str, inputs))
        raise UserError(f"{where}: no images matching '{pattern}'" + ("" if recursive else " (add --recursive for subfolders)"))
    return found


def check_pattern(pattern: str) -> None:
    """A glob inside the input folders: not empty, not absolute, no '..' (results would follow
    the file out of the output folder)."""
    if not pattern.strip():
        raise UserError("--pattern is empty: give a glob for files inside the input folders, e.g. '*.tif' (default '*')")
    path = PurePath(pattern)
    if not path.parts:  # '.', './': pathlib's glob fails on them with an IndexError
        raise UserError(f"--pattern {pattern!r}: names no files; give a glob for files inside the input folders, e.g. '*.tif'")
    if path.is_absolute() or path.anchor:
        raise UserError(f"--pattern {pattern!r}: is matched inside each input folder, so it cannot be an absolute path; "
                        f"give the folder as an input instead (img2img infer FOLDER --pattern '{path.name}')")
    if ".." in path.parts:
        raise UserError(f"--pattern {pattern!r}: '..' leaves the input folder (and results would leave --output); "
                        "give that folder as an input instead")


def _glob(folder: Path, pattern: str) -> list[Path]:
    try:
        return list_images(folder, pattern)
    except (ValueError, NotImplementedError, IndexError) as exc:  # what pathlib refuses as a pattern
        raise UserError(f"--pattern {pattern!r}: {exc}; give a glob such as '*.tif'") from None


def _once_each(files) -> list[Path]:
    """Sorted, with a file reached through two routes (a symlinked folder and the real one) kept
    once, by the route without links."""
    chosen: dict[tuple[str, str], Path] = {}
    for f in sorted(set(files), key=lambda f: (_through_link(f.parent), f)):
        chosen.setdefault((os.path.realpath(f.parent), f.name), f)
    return sorted(chosen.values())


def _through_link(folder: Path) -> bool:
    return os.path.realpath(folder) != os.path.abspath(folder)


def _subfolders(folder: Path) -> list[Path]:
    """Every folder below `folder`, each real folder (device, inode) once, except OME-Zarr stores
    and what lies inside them (chunks).

    The tree's own folders are taken first, then symlinked ones not yet seen (and what lies
    below them), so a folder keeps its real place in the mirrored output where it has one.
    """
    seen = {_identity(folder)}
    found: list[Path] = []
    links: list[Path] = []

    def descend(top: Path) -> None:
        stack = [top]
        while stack:
            for path in _child_folders(stack.pop()):
                if path.is_symlink():
                    links.append(path)
                    continue
                key = _identity(path)
                if key is not None and key not in seen:  # a bind mount can loop too
                    seen.add(key)
                    found.append(path)
                    stack.append(path)

    descend(folder)
    while links:
        link = links.pop(0)
        key = _identity(link)
        if key is not None and key not in seen:
            seen.add(key)
            found.append(link)
            descend(link)
    return sorted(found)


def _child_folders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not is_zarr(e.name) and _is_dir(e)]
    except OSError:  # unreadable: searched as far as possible, like os.walk
        return []
    return [folder / n for n in sorted(names)]


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links; a broken one is no folder
    except OSError:
        return False


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def check_template(template: str) -> None:
    """`--name`: plain {stem}, {name}, {suffix} fields (no format specs, conversions or indexing)
    and literal text, making a file name (no folder part) with an image or OME-Zarr suffix.

    Checked before any work, so a typo is one line instead of a traceback after the model loaded.
    """
    fix = "e.g. '{stem}_mask.tif' (fields {stem}, {name}, {suffix}; a literal brace is {{ or }})"
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # "{stem", "{stem}}"
        raise UserError(f"--name {template!r}: {exc}; {fix}") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise UserError(f"--name {template!r}: unknown field {{{field}}}; {fix}")
        if spec or conversion:
            extra = f"!{conversion}" if conversion else f":{spec}"
            raise UserError(f"--name {template!r}: {{{field}{extra}}} has a format spec or conversion; "
                            f"use the plain field, {fix}")
    if any(sep in template for sep in ("/", "\\")) or template in (".", ".."):
        raise UserError(f"--name {template!r}: a file name only, without folders (results go into --output, "
                        f"mirroring input subfolders with --recursive); {fix}")
    if suffix_of(template) not in write_suffixes():
        raise UserError(f"--name {template!r}: must be a file name ending in one of {writable_list()}, {fix}")


def plan_outputs(
    sources: list[Path] | list[tuple[Path, Path]],
    output_dir: Path,
    probabilities: bool = False,
    template: str = DEFAULT_TEMPLATE,
    series: int | str | None = None,
) -> list[Job]:
    """One `Job` per input: `OUT/[subfolder/]NAME.tif` (labels need 16 bits; TIFF keeps axes) and
    `NAME_probabilities.tif` if asked (`.ome.zarr` for both when the name ends in .zarr). `{stem}`
    drops the format's whole suffix: `cells.ome.zarr` and `cells.ome.tif` are `cells`. With the
    default name an OME-TIFF input gives an OME-TIFF result (`cells.ome.tif`). `series` picks the
    image of files that hold several.

    Refuses, with the file named: an output that is an input, two inputs writing one file, and
    results written into an input's own folder under the input's own name.
    """
    check_template(template)
    pairs = [s if isinstance(s, tuple) else (Path(s), Path()) for s in sources]
    inputs = {src.resolve() for src, _ in pairs}
    claimed: dict[Path, Path] = {}
    jobs = []
    for source, subfolder in pairs:
        name = template.format(stem=image_stem(source), name=source.name, suffix=source.suffix)
        if template == DEFAULT_TEMPLATE and is_ome_tiff(source):
            name = f"{image_stem(source)}.ome.tif"
        destination = _inside(Path(output_dir), Path(subfolder), name, source)
        prob = destination.with_name(_probabilities_name(destination)) if probabilities else None
        for path in filter(None, (destination, prob)):
            resolved = path.resolve()
            if resolved in inputs:
                raise UserError(f"{path}: this input would be overwritten by a result; choose another --output folder")
            if resolved in claimed:
                raise UserError(f"{source} and {claimed[resolved]} would both write {path}; rename one or run them separately")
            claimed[resolved] = source
        if destination.parent.resolve() == source.parent.resolve() and image_stem(name) == image_stem(source):
            raise UserError(
                f"{destination}: results would land beside {source.name} under its own name; choose another "
                f"--output folder or a --name that changes it (e.g. '{{stem}}_result.tif')"
            )
        jobs.append(Job(source, destination, prob, series))
    return jobs


def _inside(output_dir: Path, subfolder: Path, name: str, source: Path) -> Path:
    """OUT/subfolder/name, refused unless it stays inside the output folder (the last guard; the
    pattern and template checks keep the CLI from getting here)."""
    seps = {os.sep, os.altsep} - {None}
    if (subfolder.is_absolute() or subfolder.anchor or ".." in subfolder.parts
            or name in ("", ".", "..") or any(sep in name for sep in seps)):
        raise UserError(f"{source}: its result {subfolder / name} would land outside the output folder {output_dir}; "
                        "give input folders without '..' and a --name without folders")
    return output_dir / subfolder / name


def check_writable(jobs: list[Job], skip_existing: bool = False) -> None:
    """Create every folder results go to and write a probe temporary (named as results'
    temporaries are) in each, so that a read-only, full or misplaced --output fails at once, in
    one line, instead of after inference ran on every image. With `skip_existing`, finished
    jobs need nothing written (a read-only folder of finished results passes)."""
    folders = sorted({path.parent for job in jobs if not (skip_existing and job.done()) for path in job.outputs()})
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = temporary_name(folder / "img2img-write-check")
            descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(descriptor, b"x")
            finally:
                os.close(descriptor)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            raise UserError(f"{folder}: cannot write results there ({os_reason(exc)}); {_fix(exc)}") from None


def os_reason(exc: OSError) -> str:
    """What went wrong, in words: 'disk full' where the disk (or quota) is full, else the
    system's own message."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"disk full ({exc.strerror})"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    return exc.strerror or str(exc).strip() or type(exc).__name__


def _fix(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "make it writable (chmod u+w) or choose another --output folder"
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "free some space or choose another --output folder"
    if exc.errno == errno.EROFS:
        return "choose another --output folder on a writable disk"
    return "choose another --output folder"


def _probabilities_name(destination: Path) -> str:
    if is_zarr(destination):
        return f"{image_stem(destination)}_probabilities.ome.zarr"
    if is_ome_tiff(destination):
        return f"{image_stem(destination)}_probabilities.ome.tif"
    return image_stem(destination) + "_probabilities.tif"


def shard_from_environment() -> tuple[int, int]:
    """(index, count) of this process among a SLURM array or a torchrun/srun launch; (0, 1) alone."""
    env = os.environ
    if "SLURM_ARRAY_TASK_ID" in env and "SLURM_ARRAY_TASK_COUNT" in env:
        first = int(env.get("SLURM_ARRAY_TASK_MIN", 0))
        return int(env["SLURM_ARRAY_TASK_ID"]) - first, int(env["SLURM_ARRAY_TASK_COUNT"])
    if "WORLD_SIZE" in env and "RANK" in env:  # torchrun
        return int(env["RANK"]), int(env["WORLD_SIZE"])
    if "SLURM_NTASKS" in env and "SLURM_PROCID" in env:  # srun with several tasks
        return int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
    return 0, 1


def parse_shard(text: str) -> tuple[int, int]:
    """'auto' (from the environment) or 'K/N' with 0 <= K < N."""
    if text == "auto":
        return shard_from_environment()
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text}: use auto or K/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise UserError(f"--shard {text}: K must be in 0..N-1")
    return index, count


def take_shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Every count-th job from `index`: shards are disjoint, cover everything and stay balanced."""
    return jobs[index::count]
