"""Colorization and virtual staining (Pix2Pix-style: U-Net + conditional PatchGAN, L1 + GAN).

keep_luminance (gray -> RGB): the generator predicts only the chroma (YUV's U, V) and the output
is rebuilt from the input itself as Y, so the colour image has exactly the measured brightness
and the network cannot invent structure, only paint it. Otherwise (virtual staining: brightfield
-> H&E-like RGB, DAPI -> another stain) it predicts every output channel from every input channel.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from img2img.data.color import yuv_to_rgb_torch
from img2img.models.generators import build_generator
from img2img.models.restoration import RestorationGan


class ChromaGenerator(nn.Module):
    """Gray (B, 1, H, W) -> RGB: Y is the input, U and V come from `net`."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.size_multiple = net.size_multiple
        self.receptive_field = getattr(net, "receptive_field", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return yuv_to_rgb_torch(x, self.net(x))


class Colorize(RestorationGan):
    def build_generator(self) -> nn.Module:
        if self.config.model.keep_luminance:
            return ChromaGenerator(build_generator(self.config, self.in_channels, 2))
        return build_generator(self.config, self.in_channels, self.out_channels)

    @property
    def discriminator_channels(self) -> int:
        return self.in_channels + self.out_channels

    def judged(self, batch: dict, image: torch.Tensor) -> torch.Tensor:
        return torch.cat([batch["input"], image], 1)  # conditional, as Pix2Pix: does the colour fit this gray?
