"""What every GAN model adds to `ImageModule`: manual optimization (the order of G and D updates
is part of each algorithm, so Lightning must not choose it), each optimizer stepped only when
its network learns, and every LR schedule stepped once per batch."""

from __future__ import annotations

import warnings

import torch

from img2img.models.base import ImageModule


class GanModule(ImageModule):
    """Base for GAN models: one generator and one discriminator (CycleGAN, with two of each, overrides)."""

    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        super().__init__(config, in_channels, out_channels, input_dtype, target_dtype)
        self.automatic_optimization = False

    def configure_optimizers(self):
        opt_g = self.adam(self.generator.parameters())
        opt_d = self.adam(self.discriminator.parameters())
        return [opt_g, opt_d], self.schedulers_for(opt_g, opt_d)

    def optimize(self, optimizer, loss: torch.Tensor) -> None:
        """One update of the networks `optimizer` holds. Under DDP, `optimizer.step()` first averages
        their gradients over all processes (training/strategy.py)."""
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()

    def step_schedulers(self) -> None:
        """Every schedule follows the training step, also a discriminator's during L1 pre-training,
        before its optimizer ever stepped (PyTorch warns of that order; here it is meant)."""
        schedulers = self.lr_schedulers()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`")
            for s in schedulers if isinstance(schedulers, list) else [schedulers]:
                s.step()

    @staticmethod
    def set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
        """Freeze D during the G update so its gradients are not computed for nothing."""
        for p in module.parameters():
            p.requires_grad_(flag)
