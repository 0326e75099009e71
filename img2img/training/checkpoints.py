"""best.ckpt and last.ckpt: which Lightning callbacks write them, when, and how.

`ModelCheckpoint(save_last=True)` in Lightning 2.6 refreshes last.ckpt only right after it saved a
top-k checkpoint, i.e. only when best.ckpt improved: a run whose metric stalled kept a last.ckpt of
its first validation, and a run killed at step 10 000 resumed from step 200. So last.ckpt has its
own `ModelCheckpoint`, one without a monitor whose single (top-1) file is named `last`: such a
callback saves at the end of every validation, whatever the metric did. It writes the Trainer's
full checkpoint (optimizers, loops, callbacks' states: the random generators, the step that fixes
the samplers' position), the same as `trainer.save_checkpoint` at the end of a run, so `--resume`
continues from either. Its callback state names last.ckpt as its "best": only best.ckpt follows
the metric.

Every checkpoint goes through `AtomicCheckpointIO`: written beside its name, flushed to disk and
renamed over it, so a run killed while saving (kill -9, a node failure) leaves the previous file
whole, and a half-written file never has the real name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from pytorch_lightning.callbacks import ModelCheckpoint

from img2img.config.schema import TrainConfig
from img2img.io.atomic import atomic_path, leftover_temporaries

LAST = "last"


def checkpoint_callbacks(config: TrainConfig) -> tuple[ModelCheckpoint, ModelCheckpoint]:
    """(best, last): best.ckpt by `config.best_metric`, last.ckpt at every validation."""
    folder = Path(config.output_dir) / "checkpoints"
    best = ModelCheckpoint(
        dirpath=folder, filename="best", monitor=config.best_metric, mode=config.best_mode,
        auto_insert_metric_name=False, enable_version_counter=False,
    )
    last = ModelCheckpoint(dirpath=folder, filename=LAST, monitor=None, save_top_k=1, enable_version_counter=False)
    return best, last


def last_checkpoint(config: TrainConfig) -> Path:
    return Path(config.output_dir) / "checkpoints" / f"{LAST}.ckpt"


def remove_leftovers(folder: Path) -> None:
    """Temporaries of checkpoints a killed run was writing (never complete, never read)."""
    for name in ("best.ckpt", f"{LAST}.ckpt"):
        for path in leftover_temporaries(folder / name):
            path.unlink(missing_ok=True)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch.save checkpoints, written under a temporary name and renamed when complete."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        with atomic_path(path) as tmp:
            super().save_checkpoint(checkpoint, tmp, storage_options=storage_options)
            with open(tmp, "rb") as f:  # on disk before the rename makes it the checkpoint
                os.fsync(f.fileno())
