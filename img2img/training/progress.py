"""One terminal progress bar over the whole run: step k of N (`schedule.steps`), steps/s, ETA,
images/s, the latest losses and the latest validation metric.

Lightning's own bar restarts every epoch, and our epochs are short and of no fixed length, so it
showed "0/?" and said nothing about when a run ends. Used in a terminal only; elsewhere (a file,
CI, SLURM) train_log.py prints plain lines instead.
"""

from __future__ import annotations

import sys

import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm


class RunProgressBar(TQDMProgressBar):
    def __init__(self, total_steps: int, metric: str, refresh_rate: int = 10):
        super().__init__(refresh_rate=refresh_rate)
        self.total_steps = total_steps
        self.metric = metric

    def init_train_tqdm(self) -> Tqdm:
        # A resumed run starts part way: its rate and ETA count from there (tqdm's `initial`).
        return Tqdm(desc="training", total=self.total_steps, initial=self.trainer.lightning_module.training_steps_done,
                    unit="step", position=2 * self.process_position, disable=self.is_disabled, leave=True,
                    dynamic_ncols=True, file=sys.stdout, smoothing=0, bar_format=self.BAR_FORMAT)

    def on_train_epoch_start(self, trainer: pl.Trainer, *_) -> None:
        pass  # one bar for the whole run, never reset per epoch

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        """Advance every step (tqdm redraws at most every 0.1 s); new figures every `refresh_rate` steps."""
        bar, step = self.train_progress_bar, pl_module.training_steps_done
        if bar.disable or step <= bar.n:
            return
        if self._should_update(step, self.total_steps):
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
        bar.update(step - bar.n)

    def get_metrics(self, trainer: pl.Trainer, pl_module) -> dict[str, str]:
        """images/s, the losses the model shows (prog_bar) and the latest validation metric."""
        shown, latest = trainer.progress_bar_metrics, trainer.callback_metrics
        items = {}
        if "train/images_per_s" in shown:
            items["images/s"] = f"{float(shown['train/images_per_s']):.1f}"
        items.update({k.removeprefix("train/"): f"{float(v):.3g}" for k, v in shown.items() if k.startswith("train/loss")})
        if self.metric in latest:
            items[self.metric] = f"{float(latest[self.metric]):.3f}"
        return items
