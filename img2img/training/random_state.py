"""The global random generators' states as a Lightning callback's checkpoint state.

Dropout and CycleGAN's history pool draw from torch's generator; third-party code may use numpy's
or Python's. Saving them with the weights and restoring them when training starts again makes a
resumed run draw what the uninterrupted one drew. (Data sampling does not use them at all, see
data/sampling.py.) Stored as tensors and plain lists so `torch.load(weights_only=True)` reads them.
"""

from __future__ import annotations

import random

import numpy as np
import pytorch_lightning as pl
import torch


def capture() -> dict:
    kind, key, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


class RandomState(pl.Callback):
    """Saves the generators as they were after the last training step with every checkpoint
    (what runs after it, such as the validation Lightning adds when a run is stopped, does not
    count); on resume, restores them as training starts, after Lightning's own set-up."""

    def __init__(self):
        self._pending: dict | None = None
        self._after_step: dict | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int) -> None:
        self._after_step = capture()

    def state_dict(self) -> dict:
        return self._after_step or capture()

    def load_state_dict(self, state_dict: dict) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._pending is not None:
            restore(self._pending)
            self._pending = None
