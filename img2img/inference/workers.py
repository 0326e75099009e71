"""Spreading a batch run over devices: one process per GPU on this machine, and one share of
the files per SLURM array task or torchrun rank (see `outputs.shard_from_environment`).

One process per device, rather than Lightning's predict loop under DDP: inference needs no
gradient sync, so independent workers on disjoint files are simpler, need no process group, and
a failing file in one worker does not stall the others.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from rich.progress import Progress

from img2img.errors import UserError
from img2img.models.packages import is_foreign_package
from img2img.inference.batch import BatchReport, run_files
from img2img.inference.outputs import Job, check_writable, take_shard


@dataclass(frozen=True)
class PredictorOptions:
    device: str = "auto"
    tile: int | None = None
    overlap: int | None = None
    batch_size: int | None = None
    precision: str = "auto"
    channels: list[int] | None = None
    output_dtype: str = "same"
    direction: str | None = None
    mask_dir: Path | None = None
    mask_rule: str | None = None
    compile: bool | str = "auto"
    diameter: float | str | None = None
    tta: bool = False
    stitch: float | str | None = "auto"


def foreign_predictor(package: Path, options: PredictorOptions):
    """A `BmzPredictor` for a package not made by img2img; options only our models have are refused."""
    from img2img.inference.bmz_predictor import BmzPredictor

    given = [name for name, value in asdict(options).items()
             if name not in ("device", "channels") and value != getattr(PredictorOptions, name)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-").replace("mask-dir", "mask") for name in given)
        raise UserError(f"{flags}: not for BioImage.IO packages from elsewhere, which run with their own processing")
    return BmzPredictor(package, device=options.device, channels=options.channels)


def worker_devices(device: str, workers: int | None, jobs: int | None = None) -> list[str]:
    """The device of each worker process.

    auto: every visible GPU once, or the GPU a launcher assigned (LOCAL_RANK / SLURM_LOCALID),
    else the CPU. `workers` asks for that many processes (at most one per job), cycling over the GPUs
    (or CPUs).
    """
    gpus = torch.cuda.device_count()
    local = os.environ.get("LOCAL_RANK", os.environ.get("SLURM_LOCALID"))
    if workers is not None and workers < 1:
        raise UserError(f"--workers {workers}: must be at least 1")
    if workers is not None and jobs is not None:
        workers = min(workers, max(1, jobs))  # more would have nothing to do (and --workers 10**9 filled memory)
    if device == "auto" and gpus:
        if local is not None and workers is None:
            return [f"cuda:{int(local) % gpus}"]
        return [f"cuda:{i % gpus}" for i in range(workers or gpus)]
    return [device] * (workers or 1)


def infer_files(
    checkpoint: Path, options: PredictorOptions, jobs: list[Job], workers: int | None = None,
    skip_existing: bool = False, progress: bool = True,
) -> BatchReport:
    """Run `jobs` on every worker device; one report for all."""
    from img2img.inference.predictor import Predictor

    check_writable(jobs, skip_existing)  # a read-only, full or misplaced --output fails now, before the model loads
    if is_foreign_package(checkpoint):  # a BioImage.IO package from elsewhere: its own processing, one process
        return run_files(foreign_predictor(checkpoint, options), jobs, skip_existing=skip_existing, progress=progress)
    devices = worker_devices(options.device, workers, len(jobs))
    if len(devices) == 1 or len(jobs) <= 1:
        predictor = Predictor.from_checkpoint(checkpoint, **{**asdict(options), "device": devices[0]})
        return run_files(predictor, jobs, skip_existing=skip_existing, progress=progress)
    # A bad checkpoint or option fails here, once, rather than in every worker.
    Predictor.from_checkpoint(checkpoint, **{**asdict(options), "device": "cpu"})
    context = multiprocessing.get_context("spawn")  # CUDA cannot be forked
    queue = context.Queue()
    threads = max(1, (os.cpu_count() or 1) // len(devices)) if devices[0] == "cpu" else None
    processes = [
        context.Process(
            target=_worker, daemon=True,
            args=(rank, checkpoint, {**asdict(options), "device": dev}, take_shard(jobs, rank, len(devices)),
                  skip_existing, threads, queue),
        )
        for rank, dev in enumerate(devices)
    ]
    for process in processes:
        process.start()
    report, finished = BatchReport(), 0
    with Progress(disable=not progress) as bar:
        task = bar.add_task(f"files on {len(devices)} workers", total=len(jobs))
        while finished < len(processes):
            kind, value = queue.get()
            if kind == "file":
                bar.advance(task)
            elif kind == "report":
                report.merge(value)
                finished += 1
            else:  # a worker could not start: stop the others
                for process in processes:
                    process.terminate()
                raise UserError(value)
    for process in processes:
        process.join()
    return report


def _worker(rank, checkpoint, options, jobs, skip_existing, threads, queue) -> None:
    from img2img.inference.predictor import Predictor

    if threads:
        torch.set_num_threads(threads)
    try:
        predictor = Predictor.from_checkpoint(checkpoint, **options)
        report = run_files(predictor, jobs, skip_existing=skip_existing, progress=False,
                           on_file=lambda _: queue.put(("file", 1)))
    except Exception as exc:
        queue.put(("error", f"worker {rank} on {options['device']}: {exc}"))
        return
    queue.put(("report", report))
