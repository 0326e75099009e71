"""ESRGAN's residual-in-residual dense block (Wang et al. 2018), for higher-quality
super-resolution: dense connections inside, residuals scaled by 0.2, no batch norm (which
in SR brings artefacts and ties results to batch statistics)."""

from __future__ import annotations

import torch
import torch.nn as nn

from img2img.nets.srresnet import SuperResolutionNet

RESIDUAL_SCALE = 0.2


class DenseBlock(nn.Module):
    """Five 3x3 convs, each seeing the block input and every earlier conv's output."""

    def __init__(self, channels: int, growth: int):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, 1, 1) for i in range(5))
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(features, 1))
            if i < 4:
                features.append(self.act(out))
        return x + RESIDUAL_SCALE * out


class RRDB(nn.Module):
    def __init__(self, channels: int, growth: int):
        super().__init__()
        self.blocks = nn.Sequential(*[DenseBlock(channels, growth) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + RESIDUAL_SCALE * self.blocks(x)


def rrdb_net(in_channels: int, out_channels: int, scale: int, n_blocks: int = 23, channels: int = 64,
             growth: int = 32) -> SuperResolutionNet:
    body = nn.Sequential(*[RRDB(channels, growth) for _ in range(n_blocks)])
    return SuperResolutionNet(in_channels, out_channels, scale, channels, body, 15 * n_blocks + 1, body_norm=False)
