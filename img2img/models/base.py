"""What every img2img Lightning module shares, GAN or not: the whole validated config and the
data facts saved as hyperparameters (so inference needs nothing else), Adam with per-step LR
schedules, an optional EMA of the networks inference runs, training steps counted by Lightning's
own batch counter, and sample grids.

A single-network model (e.g. Noise2Void, img2img/kinds/n2v/) subclasses `ImageModule` and uses
Lightning's automatic optimization: one optimizer, one step per batch. GANs subclass
`GanModule` (gan_base.py), which steps its optimizers itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from img2img import __version__
from img2img.config.schema import TrainConfig
from img2img.io.images import write_image
from img2img.models.ema import EMA
from img2img.models.samples import sample_grid
from img2img.models.schedules import lr_multiplier


class ImageModule(pl.LightningModule):
    """Base for every model. Subclasses build `generator` (the network inference runs) and provide
    `training_step`/`validation_step`; a single-network model also inherits `configure_optimizers`."""

    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        # target_dtype: pixel type of translation targets (None for segmentation and for
        # checkpoints written before it existed), so outputs can be cast back to it.
        super().__init__()
        self.save_hyperparameters()
        self.hparams["img2img_version"] = __version__
        self.config = TrainConfig.model_validate(config)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self._samples: list[tuple[np.ndarray, ...]] = []

    # --- hooks subclasses provide --------------------------------------------------------
    generator: torch.nn.Module
    # The networks inference runs, which `trainer.ema_decay` averages.
    EMA_NETS: tuple[str, ...] = ("generator",)

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this: asked of the network."""
        return getattr(self.generator, "size_multiple", 1)

    @property
    def training_steps_done(self) -> int:
        """Training steps (batches) finished so far, by Lightning's own batch counter: the same
        for a model that updates one network per batch or several (`global_step` counts optimizer
        steps). Inside `training_step` the running batch is not counted yet; in callbacks after
        it, and in validation, it is. 0 outside a Trainer."""
        trainer = self._trainer
        if trainer is None:
            return 0
        return trainer.fit_loop.epoch_loop.batch_progress.total.processed

    def networks(self) -> list[nn.Module]:
        """The trained networks (what speed switches such as torch.compile apply to)."""
        return [m for name, m in self.named_children() if name != "ema"]

    # --- EMA -----------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        self.ensure_ema()

    def ensure_ema(self) -> None:
        """Create the EMA copies when the config asks for them (before weights are loaded)."""
        decay = self.config.trainer.ema_decay
        if decay is not None and not hasattr(self, "ema"):
            self.ema = EMA({name: getattr(self, name) for name in self.EMA_NETS}, decay)

    def update_ema(self) -> None:
        """Call in `training_step` after the networks inference runs were updated (or, with
        automatic optimization, in `on_train_batch_end`): this step counts as done."""
        if hasattr(self, "ema"):
            self.ema.update({name: getattr(self, name) for name in self.EMA_NETS}, self._steps_started())

    def _steps_started(self) -> int:
        """Training steps begun, the running one included (Lightning counts it as started)."""
        trainer = self._trainer
        return 0 if trainer is None else trainer.fit_loop.epoch_loop.batch_progress.total.started

    def eval_net(self, name: str) -> nn.Module:
        """The network validation and inference use: the EMA copy when there is one."""
        return self.ema.nets[name] if hasattr(self, "ema") else getattr(self, name)

    def use_ema_weights(self) -> None:
        """For inference: put the averaged weights into the live networks and drop the copies, so
        every user of `model.generator` (Predictor, plugin, export) runs the EMA weights."""
        if hasattr(self, "ema"):
            self.ema.copy_to({name: getattr(self, name) for name in self.EMA_NETS})
            del self.ema

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.eval_net("generator")(x)

    # --- optimisation --------------------------------------------------------------------
    def configure_optimizers(self):
        """One Adam for the generator, its LR schedule stepped every batch (single-network models)."""
        optimizer = self.adam(self.generator.parameters())
        return [optimizer], self.schedulers_for(optimizer)

    def adam(self, params) -> torch.optim.Adam:
        opt = self.config.optimizer
        return torch.optim.Adam(params, lr=opt.lr, betas=(opt.beta1, opt.beta2))

    def schedulers_for(self, *optimizers) -> list[dict]:
        factor = lr_multiplier(self.config.schedule)
        return [{"scheduler": LambdaLR(o, factor), "interval": "step"} for o in optimizers]

    # --- samples -------------------------------------------------------------------------
    def collect_sample(self, *panels: torch.Tensor) -> None:
        if len(self._samples) < self.config.trainer.samples:
            self._samples.append(tuple(p.detach().float().cpu().numpy() for p in panels))

    @property
    def validation_samples(self) -> list[tuple[np.ndarray, ...]]:
        """This validation's (input, output, target) panels in [-1, 1], for callbacks such as the
        napari preview; valid until `write_samples` at the end of the validation epoch."""
        return list(self._samples)

    def write_samples(self) -> None:
        """samples/step_N.png at every validation, and the same grid in TensorBoard's Images tab."""
        if self._samples and self.trainer.is_global_zero and not self.trainer.sanity_checking:
            folder = Path(self.config.output_dir) / "samples"
            grid = sample_grid(self._samples)
            write_image(folder / f"step_{self.training_steps_done:06d}.png", grid, axes="YXC")
            for logger in self.loggers:
                if isinstance(logger, TensorBoardLogger):
                    logger.experiment.add_image("samples", grid, self.training_steps_done, dataformats="HWC")
        self._samples = []
