"""Which files a batch run reads and writes, decided and checked before any work starts.

Nothing is overwritten that should not be: no output may be an input, no two inputs may write
the same file, and results do not land beside their inputs under the inputs' own names.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from pathlib import Path

from img2img.errors import UserError
from img2img.io.images import IMAGE_SUFFIXES, ZARR_SUFFIX, image_stem, is_zarr, list_images

DEFAULT_TEMPLATE = "{stem}.tif"
TEMPLATE_FIELDS = {"stem", "name", "suffix"}


@dataclass(frozen=True)
class Job:
    source: Path
    destination: Path
    probabilities: Path | None = None

    def outputs(self) -> list[Path]:
        return [p for p in (self.destination, self.probabilities) if p is not None]

    def done(self) -> bool:
        """Outputs (files, or OME-Zarr folders) are renamed into place only when complete, so
        existing means finished."""
        return all(p.is_dir() if is_zarr(p) else p.is_file() for p in self.outputs())


def find_inputs(inputs: list[Path], pattern: str = "*", recursive: bool = False) -> list[tuple[Path, Path]]:
    """(file, folder of its result relative to the output folder) for every input image.

    With `recursive`, subfolders of an input folder are searched and mirrored in the output; an
    OME-Zarr folder (`*.zarr`) is one image, never searched.
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        if is_zarr(item) and item.is_dir():
            found.append((item, Path()))
        elif item.is_dir():
            files = list_images(item, pattern)
            if recursive:
                files = sorted(set(files) | {p for sub in _subfolders(item) for p in list_images(sub, pattern)})
            found += [(f, f.parent.relative_to(item)) for f in files]
        elif item.is_file():
            if item.suffix.lower() not in IMAGE_SUFFIXES:
                raise UserError(f"{item}: not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
            found.append((item, Path()))
        else:
            raise UserError(f"{item}: no such file or folder")
    if not found:
        where = ", ".join(map(str, inputs))
        raise UserError(f"{where}: no images matching '{pattern}'" + ("" if recursive else " (add --recursive for subfolders)"))
    return found


def _subfolders(folder: Path) -> list[Path]:
    """Every folder below `folder`, except OME-Zarr stores and what lies inside them (chunks)."""
    found = []
    for top, dirs, _ in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not is_zarr(d))
        found += [Path(top) / d for d in dirs]
    return sorted(found)


def check_template(template: str) -> None:
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        raise UserError(f"--name {template!r}: unknown field(s) {sorted(unknown)}; use {{stem}}, {{name}} or {{suffix}}")
    if Path(template).suffix.lower() not in IMAGE_SUFFIXES | {ZARR_SUFFIX} or "/" in template:
        raise UserError(f"--name {template!r}: must be a file name ending in .tif, .png, .jpg or .ome.zarr, "
                        "e.g. '{stem}_mask.tif'")


def plan_outputs(
    sources: list[Path] | list[tuple[Path, Path]],
    output_dir: Path,
    probabilities: bool = False,
    template: str = DEFAULT_TEMPLATE,
) -> list[Job]:
    """One `Job` per input: `OUT/[subfolder/]NAME.tif` (labels need 16 bits; TIFF keeps axes) and
    `NAME_probabilities.tif` if asked (`.ome.zarr` for both when the name ends in .zarr). `{stem}`
    of `cells.ome.zarr` is `cells`.

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
        destination = Path(output_dir) / subfolder / name
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
        jobs.append(Job(source, destination, prob))
    return jobs


def _probabilities_name(destination: Path) -> str:
    if is_zarr(destination):
        return f"{image_stem(destination)}_probabilities.ome.zarr"
    return destination.stem + "_probabilities.tif"


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
