"""Stop training after `schedule.steps` training steps, counted in batches.

Lightning's `max_steps` counts optimizer steps, which differ by model (a GAN takes two per batch,
a GAN in L1 pre-training one, Noise2Void one), so it cannot say "this many batches" for all of
them. This callback stops after the batch that completes the schedule, with the validation
Lightning would add to a stop only where the schedule validates at that step anyway.
"""

from __future__ import annotations

import pytorch_lightning as pl


class StepLimit(pl.Callback):
    def __init__(self, steps: int, val_every: int):
        self.steps = steps
        self.validates_last = steps % min(val_every, steps) == 0

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if pl_module.training_steps_done >= self.steps and not trainer.should_stop:
            trainer.should_stop = True
            if not self.validates_last:
                trainer.limit_val_batches = 0  # Lightning validates on a stop; the schedule does not here
