"""A Lightning callback that feeds the Train widget: losses per step, the validation score that
picks best.ckpt, the newest samples after each validation (decoded objects for segmentation
models, the sample grid file otherwise), and the Stop button (checked after every step)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from img2img_napari.background import Progress
from img2img_napari.labels_preview import labels_grid


class LiveMonitor(pl.Callback):
    def __init__(self, progress: Progress, samples_dir: Path):
        self.progress = progress
        self.samples_dir = Path(samples_dir)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        losses = {
            key.removeprefix("train/"): float(value)
            for key, value in trainer.callback_metrics.items()
            if key.startswith("train/loss") and value.numel() == 1  # not images/s: it has its own scale
        }
        self.progress.metrics.emit({"step": pl_module.training_steps_done, **losses})
        self.progress.advanced.emit(1)
        if self.progress.cancelled:
            trainer.should_stop = True  # Lightning ends the loop; train() then saves last.ckpt

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module) -> None:
        # Callbacks run before the module's own hook, which writes the samples to disk and forgets them.
        config = pl_module.config
        samples = _validation_samples(pl_module)
        if config.task == "segmentation" and samples and not trainer.sanity_checking:
            grid, _ = labels_grid(samples, config.segmentation.decoding)
            self.progress.preview_image.emit(grid)

    def on_validation_end(self, trainer: pl.Trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        metric = pl_module.config.best_metric
        value = trainer.callback_metrics.get(metric)
        if value is not None and value.numel() == 1:
            self.progress.score.emit({"step": pl_module.training_steps_done, metric: float(value)})
        if pl_module.config.task != "segmentation":
            grids = sorted(self.samples_dir.glob("step_*.png"))
            if grids:
                self.progress.preview.emit(str(grids[-1]))


def _validation_samples(pl_module) -> list[tuple]:
    """(input, output, target) arrays in [-1, 1] that `ImageModule.collect_sample` gathered in this
    validation (`ImageModule.validation_samples`)."""
    return getattr(pl_module, "validation_samples", [])
