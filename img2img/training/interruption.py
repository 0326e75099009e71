"""Ctrl-C (SIGINT) and time limits (SIGTERM from `timeout`, SLURM, a scheduler) stop a run so that
`--resume` continues it.

Lightning alone did not: Ctrl-C became `sys.exit(1)` with nothing saved, and when the whole process
group was signalled (a terminal's Ctrl-C, `timeout`, SLURM) the DataLoader workers died with it
and the main process failed with a traceback. Here the main process only notes the signal; the step
in progress finishes, training stops (without the validation Lightning adds to a stop: a time limit
leaves seconds and validation can take minutes), run.py saves last.ckpt and raises
`TrainingInterrupted`, which the CLI prints as one line with the command that resumes the run.
Workers ignore both signals (from their worker_init_fn on: a signal in the milliseconds while a
worker starts still ends it), so only the main process decides when to stop. A second Ctrl-C while
stopping ends the process at once: every checkpoint is written atomically, so last.ckpt then still
holds the latest validation.
"""

from __future__ import annotations

import os
import shlex
import signal
import threading
from functools import partial
from pathlib import Path

import pytorch_lightning as pl
from lightning_fabric.utilities.data import _auto_add_worker_init_fn
from torch.utils.data import DataLoader

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by a signal after saving last.ckpt. A KeyboardInterrupt, so that code that
    catches `Exception` lets it through and callers that know nothing of it still exit as for Ctrl-C."""

    def __init__(self, signum: int | None, step: int, total: int, last: Path, report: bool = True):
        self.signal_name = signal.Signals(signum).name if signum else "stopped by another process"
        self.exit_code = 128 + (signum or signal.SIGTERM)  # the shell's convention: 130 SIGINT, 143 SIGTERM
        self.step, self.total, self.last = step, total, Path(last)
        self.report = report  # False on DDP ranks other than 0, so the line is printed once
        super().__init__(f"interrupted at step {step} of {total} ({self.signal_name})")


def resume_command(config: Path, overrides: list[str], last: Path) -> str:
    """The `img2img train` command line that continues an interrupted run."""
    words = ["img2img", "train", str(config)]
    for item in overrides:
        words += ["--set", item]
    return shlex.join(words + ["--resume", str(last)])


class Interruption(pl.Callback):
    """Catches SIGINT/SIGTERM during training and stops at the end of the current step.

    The handlers are installed when training starts, after Lightning registered its own (which
    raises SystemExit after the step, before anything is saved); Lightning puts back the handlers it
    found when `fit` ends. Under DDP a signal to any process stops all of them at the same step."""

    def __init__(self, last: Path):
        self.last = Path(last)
        self.signal: int | None = None  # the first signal received
        self.stopped = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Lightning starts the training loader's workers before `on_train_start`, and a worker
        takes its worker_init_fn when it starts: so the data module's `train_dataloader` is wrapped
        here, before Lightning asks for the loader."""
        datamodule = trainer.datamodule
        if stage != "fit" or datamodule is None:
            return
        make = datamodule.train_dataloader

        def train_dataloader():
            loaders = make()
            for loader in _loaders(loaders):
                if loader.num_workers > 0:
                    _auto_add_worker_init_fn(loader, trainer.global_rank)  # Lightning's worker seeding, kept
                    loader.worker_init_fn = partial(ignore_stop_signals, loader.worker_init_fn)
            return loaders

        datamodule.train_dataloader = train_dataloader

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is threading.main_thread():  # (the napari plugin trains in another one)
            for signum in STOP_SIGNALS:
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame) -> None:
        if self.signal is None:
            self.signal = signum
        elif signum == signal.SIGINT:  # Ctrl-C twice: quit now (schedulers may repeat SIGTERM: ignored)
            # os.write, as print() is not safe inside a signal handler.
            os.write(2, f"second SIGINT: stopped at once; {self.last} holds the latest validation\n".encode())
            os._exit(128 + signum)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        stop = self.signal is not None
        if trainer.world_size > 1:  # every process must stop at the same step
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop and not self.stopped:
            self.stopped = True
            trainer.should_stop = True
            trainer.limit_val_batches = 0  # no validation on the way out

    def interrupted(self, trainer: pl.Trainer, step: int, total: int) -> TrainingInterrupted | None:
        """The exception to raise once last.ckpt is saved, or None (not stopped, or the run was done)."""
        if not self.stopped or step >= total:
            return None
        return TrainingInterrupted(self.signal, step, total, self.last, report=trainer.is_global_zero)


def ignore_stop_signals(then, worker_id: int) -> None:
    """DataLoader worker_init_fn: the main process handles SIGINT/SIGTERM. A worker killed by them
    (PyTorch's worker SIGTERM handler re-raises any SIGTERM not sent by its parent) fails the main
    process with "DataLoader worker ... is killed by signal"."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if then is not None:
        then(worker_id)


def _loaders(loaders) -> list[DataLoader]:
    if isinstance(loaders, DataLoader):
        return [loaders]
    if isinstance(loaders, dict):
        loaders = list(loaders.values())
    if isinstance(loaders, (list, tuple)):
        return [x for item in loaders for x in _loaders(item)]
    return []
