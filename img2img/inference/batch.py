"""Running a `Predictor` over many files: progress, background I/O, and failures that do not stop the run.

Reading the next file and writing the last result happen in background threads while the
current file is on the device (tifffile and zlib release the GIL), so a GPU is not left waiting
on the disk. A file that fails is reported and skipped; the summary says what happened to each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from img2img.errors import UserError, first_line
from img2img.inference.outputs import Job, os_reason
from img2img.io.atomic import leftover_temporaries, remove_temporary
from img2img.io.images import Image, read_image, write_image


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failures: dict[Path, str] = field(default_factory=dict)
    megapixels: float = 0.0
    seconds: float = 0.0

    def merge(self, other: "BatchReport") -> None:
        self.written += other.written
        self.skipped += other.skipped
        self.failures.update(other.failures)
        self.megapixels += other.megapixels
        self.seconds = max(self.seconds, other.seconds)


def remove_stale_temporaries(jobs: list[Job]) -> None:
    """Delete the temporaries (`.NAME.tmp-HOST-PID.ext` files, and OME-Zarr folders) that killed
    runs left beside our outputs; those of live runs, writing into this folder right now, and of
    other hosts stay (see io.atomic.leftover_temporaries)."""
    listings: dict[Path, list[str]] = {}  # each folder listed once, not once per output
    for job in jobs:
        for path in job.outputs():
            if path.parent not in listings:
                try:
                    listings[path.parent] = [n for n in os.listdir(path.parent) if n.startswith(".") and ".tmp-" in n]
                except OSError:  # no folder yet: nothing was left
                    listings[path.parent] = []
            for stale in leftover_temporaries(path, listings[path.parent]):
                remove_temporary(stale)


def run_files(
    predictor,
    jobs: list[Job],
    skip_existing: bool = False,
    progress: bool = True,
    on_file: Callable[[Path], None] | None = None,
) -> BatchReport:
    """Predict every job's source into its destination; returns what was written, skipped and failed."""
    report = BatchReport()
    if skip_existing:
        finished = {j.source for j in jobs if j.done()}
        report.skipped = [j.source for j in jobs if j.source in finished]
        jobs = [j for j in jobs if j.source not in finished]
        for source in report.skipped if on_file else ():
            on_file(source)
    remove_stale_temporaries(jobs)
    start = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar, ThreadPoolExecutor(2) as pool:
        files_task = bar.add_task("files", total=len(jobs))
        tiles_task = bar.add_task("tiles", total=None)
        predictor.on_tiles = lambda n: bar.advance(tiles_task, n)
        reading = pool.submit(_read, jobs[0]) if jobs else None
        writing: tuple[Job, Future] | None = None
        try:
            for index, job in enumerate(jobs):
                image = reading.result()
                if index + 1 < len(jobs):
                    reading = pool.submit(_read, jobs[index + 1])
                bar.update(files_task, description=f"files ({job.source.name})")
                try:
                    if not isinstance(image, Image):
                        raise UserError(image)
                    bar.update(tiles_task, completed=0, total=predictor.count_tiles(image.data.shape, image.axes))
                    outputs = predictor.results_for(image, job.destination, job.probabilities)
                except Exception as exc:  # one bad file must not lose the rest of the run
                    report.failures[job.source] = _reason(exc, job.source)
                    _advance(bar, files_task, on_file, job.source)
                    continue
                report.megapixels += _megapixels(image)
                _finish(writing, report, bar, files_task, on_file)  # one write in flight at a time
                writing = (job, pool.submit(write_outputs, outputs))
            _finish(writing, report, bar, files_task, on_file)
        finally:
            predictor.on_tiles = None
    report.seconds = time.perf_counter() - start
    return report


def write_outputs(outputs: list[tuple]) -> Path:
    """Write (path, array, axes, calibration[, kind]) tuples; return the first (the main result).
    The array may be a function that makes it (`Segmenter._predict(later=True)`), called here.
    `kind` is "labels" for a segmentation (OME-Zarr writes NGFF labels metadata), else "image".

    An array of None was streamed into place while predicting (an OME-Zarr result). If one
    output cannot be written (a full disk), those of this call already in place are removed as
    well: a job leaves all of its results or none (`Job.done` then redoes it), never a label image
    without its probabilities.
    """
    placed = [path for path, data, *_ in outputs if data is None]
    for path, data, axes, resolution, *kind in outputs:
        if data is None:
            continue
        if callable(data):  # labels whose decoding was left to this (writer) thread
            data = data()
        try:
            write_image(path, data, axes=axes, resolution=resolution, kind=kind[0] if kind else "image")
        except BaseException as exc:
            for done in placed:
                remove_temporary(done)
            if isinstance(exc, OSError):
                raise UserError(f"{path} not written: {os_reason(exc)}; nothing of this result was kept") from exc
            raise
        placed.append(path)
    return outputs[0][0]


def _read(job: Job) -> Image | str:
    try:
        return read_image(job.source, lazy=True, series=job.series)
    except UserError as exc:
        return _reason(exc, job.source)


def _finish(writing, report: BatchReport, bar: Progress, task, on_file) -> None:
    if writing is None:
        return
    job, future = writing
    try:
        report.written.append(future.result())
    except Exception as exc:
        report.failures[job.source] = _reason(exc, job.source)
    _advance(bar, task, on_file, job.source)


def _advance(bar: Progress, task, on_file, source: Path) -> None:
    bar.advance(task)
    if on_file is not None:
        on_file(source)


def _megapixels(image: Image) -> float:
    """Image pixels (planes x height x width), channels not counted."""
    channels = image.data.shape[image.axes.index("C")] if "C" in image.axes else 1
    return image.data.size / channels / 1e6


def _reason(exc: Exception, path: Path) -> str:
    """One line naming the file; unexpected errors keep their type so they can be reported."""
    if isinstance(exc, OSError) and exc.errno is not None:  # e.g. a full disk under a streamed OME-Zarr result
        text = f"{os_reason(exc)}" + (f": {exc.filename}" if exc.filename else "")
    else:
        text = first_line(exc, typed=not isinstance(exc, UserError), limit=None)
    return text if str(path) in text else f"{path}: {text}"
