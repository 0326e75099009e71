"""SRResNet (Ledig et al. 2017) for super-resolution: residual blocks at the input's resolution,
then PixelShuffle up-sampling (sub-pixel convolution), which has no checkerboard overlap.

One change from the paper: the network adds its output to a bicubic up-sampling of the
input, so it learns only the detail bicubic misses. It starts at the classical baseline and
converges much faster on a CPU. No tanh: SR targets keep their bright tails beyond [-1, 1].
Every layer is a stride-1, zero-padded convolution, so any input size works (no size multiple).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from img2img.nets.receptive import receptive_field


class ResidualBlock(nn.Module):
    """conv-norm-PReLU-conv-norm plus the identity (SRResNet); without norm as in EDSR."""

    def __init__(self, channels: int, norm: Literal["batch", "none"] = "batch"):
        super().__init__()
        bias = norm == "none"
        layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, 1, 1, bias=bias)]
        layers += [nn.BatchNorm2d(channels)] if norm == "batch" else []
        layers += [nn.PReLU(channels), nn.Conv2d(channels, channels, 3, 1, 1, bias=bias)]
        layers += [nn.BatchNorm2d(channels)] if norm == "batch" else []
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class PixelShuffleUpsampler(nn.Sequential):
    """log2(scale) stages of conv -> PixelShuffle(2) -> PReLU, then a conv to the output channels."""

    def __init__(self, channels: int, out_channels: int, scale: int):
        if scale not in (2, 4, 8):
            raise ValueError(f"scale {scale}: use 2, 4 or 8")
        layers: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            layers += [nn.Conv2d(channels, 4 * channels, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(channels)]
        layers.append(nn.Conv2d(channels, out_channels, 3, 1, 1))
        super().__init__(*layers)
        self.stages = int(math.log2(scale))


class SuperResolutionNet(nn.Module):
    """head conv -> body (blocks + conv, long skip) -> up-sampler, plus bicubic(x).

    `body` is any stack of blocks at `channels` wide; SRResNet and RRDB differ only there.
    """

    def __init__(self, in_channels: int, out_channels: int, scale: int, channels: int, body: nn.Module,
                 body_convs: int, body_norm: bool):
        super().__init__()
        self.scale = scale
        self.head = nn.Conv2d(in_channels, channels, 3, 1, 1)
        tail: list[nn.Module] = [nn.Conv2d(channels, channels, 3, 1, 1, bias=not body_norm)]
        tail += [nn.BatchNorm2d(channels)] if body_norm else []
        self.body = nn.Sequential(body, *tail)
        self.upsample = PixelShuffleUpsampler(channels, out_channels, scale)
        self.skip_channels = out_channels == in_channels
        # One output pixel reads: head + body convs + the up-sampler's convs (those at high
        # resolution count 1/scale input pixel each), plus bicubic's 4-pixel support.
        layers = [("conv", 3, 1, 1)] * (2 + body_convs + self.upsample.stages)
        self.receptive_field = max(receptive_field(layers) + 4, 4)
        for m in self.upsample.modules():  # start near the bicubic baseline: a small residual
            if isinstance(m, nn.Conv2d) and m.out_channels == out_channels:
                nn.init.normal_(m.weight, 0.0, 1e-3)
                nn.init.zeros_(m.bias)

    SIZE_MULTIPLE = size_multiple = 1  # stride-1 convolutions at the input's resolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        out = self.upsample(features + self.body(features))
        if self.skip_channels:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out


def srresnet(in_channels: int, out_channels: int, scale: int, n_blocks: int = 16, channels: int = 64,
             norm: Literal["batch", "none"] = "batch") -> SuperResolutionNet:
    body = nn.Sequential(*[ResidualBlock(channels, norm) for _ in range(n_blocks)])
    return SuperResolutionNet(in_channels, out_channels, scale, channels, body, 2 * n_blocks + 1, norm == "batch")
