"""Training speed as a logged metric: `train/images_per_s`, over all processes.

Measured from the end of one step to the end of the next, so data loading, both networks'
updates and logging are included: the number a user can divide a data set by. Time spent in
validation is left out.
"""

from __future__ import annotations

import time

import pytorch_lightning as pl
import torch


def batch_size(batch) -> int:
    tensors = batch.values() if isinstance(batch, dict) else batch
    return next(int(t.shape[0]) for t in tensors if torch.is_tensor(t) and t.ndim == 4)


class Throughput(pl.Callback):
    def __init__(self):
        self._last: float | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int) -> None:
        now = time.perf_counter()
        if self._last is not None:
            images = batch_size(batch) * trainer.world_size
            pl_module.log("train/images_per_s", images / max(now - self._last, 1e-9), on_step=True, on_epoch=False,
                          prog_bar=True, batch_size=1, rank_zero_only=True)
        self._last = now

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = None  # the next step's time would include validation
