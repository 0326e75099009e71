"""OUTPUT_DIR/train.log: where a run is, as plain lines (no carriage returns) that `tail -f`, CI and
SLURM logs show as they are.

A line every 5% of the run (step k of N, images/s, elapsed, ETA, the latest losses), one at every
validation (its metrics and the best so far), and a summary at the end. Lines are appended as
they come, not written atomically, so a crashed run keeps every line up to the crash and a resumed
run continues the same file. Where no progress bar shows the run (stdout is a file) the same lines
are printed; under a bar, only validation lines and the summary are, above it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytorch_lightning as pl
from tqdm import tqdm

from img2img.config.schema import TrainConfig
from img2img.training.throughput import batch_size

REPORT_EVERY = 0.05  # share of the run between progress lines


class TrainLog(pl.Callback):
    def __init__(self, path: Path, config: TrainConfig, echo: Literal["all", "validation", "none"] = "none"):
        self.path = Path(path)
        self.total = config.schedule.steps
        self.metric, self.mode = config.best_metric, config.best_mode
        self.echo = echo
        self.every = max(1, round(self.total * REPORT_EVERY))
        self.started = time.perf_counter()
        self.best: tuple[float, int] | None = None  # (value, step)
        self.first_step = self.step = 0
        self.images = 0
        self.loop_start = self.loop_seconds = None
        self._mark = (time.perf_counter(), 0)  # (time, images) at the last progress line

    # --- Lightning hooks (rank 0 writes) -------------------------------------------------
    def on_train_start(self, trainer: pl.Trainer, pl_module) -> None:
        self.first_step = self.step = pl_module.training_steps_done
        self.loop_start = time.perf_counter()
        self._mark = (self.loop_start, self.images)
        if trainer.is_global_zero:
            verb = "resuming at" if self.first_step else "starting at"
            self.write(f"training: {verb} step {self.first_step} of {self.total}; best checkpoint by {self.metric}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.step = pl_module.training_steps_done
        self.images += batch_size(batch) * trainer.world_size
        if trainer.is_global_zero and (self.step % self.every == 0 or self.step == self.total):
            self.write(self.progress_line(trainer), echo=self.echo == "all")

    def on_validation_end(self, trainer: pl.Trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/") and v.numel() == 1}
        value = metrics.get(self.metric)
        if value is not None and (self.best is None or (value > self.best[0] if self.mode == "max" else value < self.best[0])):
            self.best = (value, self.step)
        shown = " ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
        self.write(f"{self._where()} | validation: {shown or 'no metrics'}{self._best_text(' | ')}")

    def on_train_end(self, trainer: pl.Trainer, pl_module) -> None:
        self.loop_seconds = time.perf_counter() - (self.loop_start or self.started)

    # --- lines ---------------------------------------------------------------------------
    def progress_line(self, trainer: pl.Trainer) -> str:
        now = time.perf_counter()
        since, images = self._mark
        rate = (self.images - images) / max(now - since, 1e-9)
        self._mark = (now, self.images)
        done, elapsed = self.step - self.first_step, now - (self.loop_start or self.started)
        eta = _duration(elapsed / done * (self.total - self.step)) if done > 0 else "?"
        losses = " ".join(f"{k.removeprefix('train/')} {float(v):.4g}" for k, v in sorted(trainer.callback_metrics.items())
                          if k.startswith("train/loss") and v.numel() == 1)
        return f"{self._where()} | {rate:.1f} images/s | elapsed {_duration(elapsed)} | ETA {eta} | {losses}".rstrip(" |")

    def summary(self, best: Path, last: Path) -> list[str]:
        """The closing lines: steps, wall time, images/s, best metric and both checkpoints."""
        wall = time.perf_counter() - self.started
        loop = self.loop_seconds or wall
        verb = "done" if self.step >= self.total else "stopped"
        lines = [f"training {verb}: {self.step} of {self.total} steps in {_duration(wall)} "
                 f"({self.images / max(loop, 1e-9):.1f} images/s)"]
        if self.best is not None:
            lines.append(f"best {self.metric} {self.best[0]:.4g} at step {self.best[1]}: {best}")
        else:
            lines.append(f"no validation ran, so no best {self.metric}: use {last}")
        lines.append(f"last checkpoint (to --resume): {last}")
        return lines

    def write(self, line: str, echo: bool | None = None) -> None:
        """Append one time-stamped line to train.log; echo it to the terminal unless told not to."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        if echo is False or self.echo == "none":
            return
        if self.echo == "validation":
            tqdm.write(line)  # above the progress bar, which tqdm redraws
        else:
            print(line, flush=True)

    def _where(self) -> str:
        return f"step {self.step}/{self.total} ({100 * self.step / self.total:.0f}%)"

    def _best_text(self, prefix: str) -> str:
        return f"{prefix}best {self.metric} {self.best[0]:.4g} at step {self.best[1]}" if self.best else ""


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))
