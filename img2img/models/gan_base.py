"""What every GAN model shares: manual optimization (the order of G and D updates is part of
each algorithm, so Lightning must not choose it), per-step LR schedules, an optional EMA of the
generators, and sample grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from img2img.models.ema import EMA

from img2img import __version__
from img2img.config.schema import TrainConfig
from img2img.io.images import write_image
from img2img.models.samples import sample_grid
from img2img.models.schedules import lr_multiplier

# Every optimisation step of our GANs updates two networks, and Lightning counts each
# optimizer step in `global_step`: max_steps and step labels are scaled by this.
OPTIMIZERS_PER_STEP = 2


class GanModule(pl.LightningModule):
    """Base for GAN models. Hyperparameters (the whole validated config plus the data facts
    found at training time) are saved in every checkpoint, so inference needs nothing else."""

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
        self.automatic_optimization = False
        self._samples: list[tuple[np.ndarray, ...]] = []

    # --- hooks subclasses provide --------------------------------------------------------
    generator: torch.nn.Module
    # The networks inference runs, which `trainer.ema_decay` averages.
    EMA_NETS: tuple[str, ...] = ("generator",)

    @property
    def size_multiple(self) -> int:
        return 1

    @property
    def training_steps_done(self) -> int:
        """Batches trained on so far (Lightning's global_step counts every optimizer step)."""
        return self.global_step // OPTIMIZERS_PER_STEP

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
        """Call after each generator step."""
        if hasattr(self, "ema"):
            self.ema.update({name: getattr(self, name) for name in self.EMA_NETS}, self.training_steps_done)

    def eval_net(self, name: str) -> nn.Module:
        """The network validation and inference use: the EMA copy when there is one."""
        return self.ema.nets[name] if hasattr(self, "ema") else getattr(self, name)

    def use_ema_weights(self) -> None:
        """For inference: put the averaged weights into the live networks and drop the copies, so
        every user of `model.generator` (Predictor, plugin, export) runs the EMA weights."""
        if hasattr(self, "ema"):
            self.ema.copy_to({name: getattr(self, name) for name in self.EMA_NETS})
            del self.ema

    # --- one generator and one discriminator (CycleGAN, with two of each, overrides) ----
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.eval_net("generator")(x)

    def configure_optimizers(self):
        opt_g = self.adam(self.generator.parameters())
        opt_d = self.adam(self.discriminator.parameters())
        return [opt_g, opt_d], self.schedulers_for(opt_g, opt_d)

    # --- optimisation --------------------------------------------------------------------
    def adam(self, params) -> torch.optim.Adam:
        opt = self.config.optimizer
        return torch.optim.Adam(params, lr=opt.lr, betas=(opt.beta1, opt.beta2))

    def schedulers_for(self, *optimizers) -> list[dict]:
        factor = lr_multiplier(self.config.schedule)
        return [{"scheduler": LambdaLR(o, factor), "interval": "step"} for o in optimizers]

    def optimize(self, optimizer, loss: torch.Tensor) -> None:
        """One update of the networks `optimizer` holds. Under DDP, `optimizer.step()` first averages
        their gradients over all processes (training/strategy.py)."""
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()

    def step_schedulers(self) -> None:
        schedulers = self.lr_schedulers()
        for s in schedulers if isinstance(schedulers, list) else [schedulers]:
            s.step()

    @staticmethod
    def set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
        """Freeze D during the G update so its gradients are not computed for nothing."""
        for p in module.parameters():
            p.requires_grad_(flag)

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
