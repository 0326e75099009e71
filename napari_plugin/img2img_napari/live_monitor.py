"""A Lightning callback that feeds the Train widget: losses per step, the newest sample grid
after each validation, and the Stop button (checked after every step)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from img2img.models.gan_base import OPTIMIZERS_PER_STEP
from img2img_napari.background import Progress


class LiveMonitor(pl.Callback):
    def __init__(self, progress: Progress, samples_dir: Path):
        self.progress = progress
        self.samples_dir = Path(samples_dir)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step // OPTIMIZERS_PER_STEP
        losses = {
            key.removeprefix("train/"): float(value)
            for key, value in trainer.callback_metrics.items()
            if key.startswith("train/loss") and value.numel() == 1  # not images/s: it has its own scale
        }
        self.progress.metrics.emit({"step": step, **losses})
        self.progress.advanced.emit(1)
        if self.progress.cancelled:
            trainer.should_stop = True  # Lightning ends the loop; train() then saves last.ckpt

    def on_validation_end(self, trainer: pl.Trainer, pl_module) -> None:
        grids = sorted(self.samples_dir.glob("step_*.png"))
        if grids:
            self.progress.preview.emit(str(grids[-1]))
