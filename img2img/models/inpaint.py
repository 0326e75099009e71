"""Inpainting: a gated-convolution generator fills the holes of an image given with its mask,
a PatchGAN judges (image, mask), and the known pixels are copied back, so only holes change.

L1 follows Liu et al. 2018: hole pixels weigh `hole_weight` (6) times, and the raw output on
known pixels is kept close too (`valid_weight`), which steadies training near hole borders.
The network's input is the image channels plus the mask as the last channel, so the Predictor
can tile image and mask together."""

from __future__ import annotations

import torch
import torch.nn as nn

from img2img.models.restoration import RestorationGan
from img2img.nets.gated import GatedInpaintNet


def copy_back(filled: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The filled image inside the holes (mask 1), the given image elsewhere."""
    return mask * filled + (1 - mask) * image


class Inpaint(RestorationGan):
    def build_generator(self) -> nn.Module:
        g = self.config.model.generator
        return GatedInpaintNet(self.in_channels, g.base_channels, g.n_dilated)

    @property
    def discriminator_channels(self) -> int:
        return self.out_channels + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C + 1, H, W): image channels then the hole mask -> (B, C, H, W) with holes filled."""
        image, mask = x[:, :-1], (x[:, -1:] > 0.5).to(x.dtype)
        return copy_back(self.eval_net("generator")(image, mask), image, mask)

    def generate(self, batch: dict, net: nn.Module | None = None) -> torch.Tensor:
        return (net or self.generator)(batch["input"], batch["mask"])  # raw output; losses and copy-back below

    def judged(self, batch: dict, image: torch.Tensor) -> torch.Tensor:
        mask = batch["mask"]
        return torch.cat([copy_back(image, batch["target"], mask), mask], 1)

    def reconstruction_loss(self, fake: torch.Tensor, batch: dict) -> torch.Tensor:
        cfg, mask = self.config.model, batch["mask"]
        error = (fake - batch["target"]).abs()
        hole = (error * mask).sum() / mask.expand_as(error).sum().clamp(min=1)
        valid = (error * (1 - mask)).sum() / (1 - mask).expand_as(error).sum().clamp(min=1)
        return cfg.hole_weight * hole + cfg.valid_weight * valid

    def validation_output(self, batch: dict) -> torch.Tensor:
        return copy_back(self.generate(batch, self.eval_net("generator")), batch["input"], batch["mask"])
