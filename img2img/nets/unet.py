"""U-Net generator of Pix2Pix (Isola et al. 2017), with any channel counts and depth.

Reference "U-Net-256": depth 8 (a 256 px input reaches 1x1 at the bottom), 64 base channels
doubling to 512, skip connections by concatenation, dropout 0.5 in the three inner up blocks,
batch norm, tanh output. A smaller depth serves small images and CPUs. `upsample="bilinear"`
swaps transposed convolutions for upsample + conv, which avoids checkerboard artifacts.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

from img2img.nets.layers import NormName, init_weights, norm_layer, uses_bias
from img2img.nets.receptive import Layer, receptive_field, up_layers


class UNetGenerator(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int = 8,
        base_channels: int = 64,
        norm: NormName = "batch",
        dropout: float = 0.5,
        upsample: Literal["transpose", "bilinear"] = "transpose",
    ) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError("U-Net depth must be at least 2")
        self.depth = depth
        self.upsample = upsample
        width = [base_channels * min(2**i, 8) for i in range(depth)]
        bias = uses_bias(norm)

        self.down = nn.ModuleList()
        for i in range(depth):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, inplace=True)]
            layers.append(nn.Conv2d(in_channels if i == 0 else width[i - 1], width[i], 4, 2, 1, bias=bias))
            if 0 < i < depth - 1:  # no norm on the outermost and on the 1x1 innermost layer
                layers.append(norm_layer(norm, width[i]))
            self.down.append(nn.Sequential(*layers))

        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            in_ch = width[i] if i == depth - 1 else 2 * width[i]
            out_ch = out_channels if i == 0 else width[i - 1]
            layers = [nn.ReLU(inplace=True), _up_conv(in_ch, out_ch, upsample, bias=bias or i == 0)]
            if i == 0:
                layers.append(nn.Tanh())
            else:
                layers.append(norm_layer(norm, out_ch))
                # Reference: dropout where both sides are at the 8x width, below the innermost.
                if dropout > 0 and 4 <= i < depth - 1:
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        init_weights(self)

    @staticmethod
    def multiple_for(depth: int) -> int:
        """Input sides of a U-Net of `depth` must be multiples of this: each level halves them."""
        return 2**depth

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (the predictor pads to it)."""
        return self.multiple_for(self.depth)

    @property
    def receptive_field(self) -> int:
        """Theoretical input pixels (per side) one output pixel can see, along the deepest path:
        `depth` 4x4 stride-2 convs down, `depth` up layers; norms aside."""
        down: list[Layer] = [("conv", 4, 2, 1)] * self.depth
        return receptive_field(down + up_layers(self.upsample, 4, 1) * self.depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.size_multiple
        if x.shape[-2] % m or x.shape[-1] % m:
            raise ValueError(f"U-Net of depth {self.depth} needs sizes divisible by {m}, got {tuple(x.shape[-2:])}")
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the innermost output feeds the first up block directly
        for i, block in enumerate(self.up):
            if i > 0:
                x = torch.cat([x, skips.pop()], dim=1)
            x = block(x)
        return x


def _up_conv(in_ch: int, out_ch: int, mode: str, bias: bool) -> nn.Module:
    if mode == "transpose":
        return nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=bias)
    if mode == "bilinear":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=bias),
        )
    raise ValueError(f"unknown upsample '{mode}'; use transpose or bilinear")
