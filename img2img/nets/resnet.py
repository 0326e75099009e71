"""ResNet generator of CycleGAN (Zhu et al. 2017; Johnson et al. 2016), with any channel counts.

Reference: reflect pad + 7x7 conv, two stride-2 3x3 convs (64 -> 128 -> 256 channels),
`n_blocks` residual blocks at 1/4 resolution (9 at 256 px, 6 at 128 px), two up-sampling
layers, reflect pad + 7x7 conv, tanh; instance norm. Unlike the U-Net it has no skips across
scales, so it suits translations that change texture more than layout, and it only needs
sides divisible by 4. `upsample="bilinear"` replaces transposed convs by upsample + 3x3 conv,
which avoids checkerboard artifacts.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

from img2img.nets.layers import NormName, init_weights, norm_layer, uses_bias
from img2img.nets.receptive import Layer, receptive_field, up_layers

N_DOWN = 2  # stride-2 convolutions; the reference fixes it


class ResidualBlock(nn.Module):
    """x + (reflect pad, 3x3 conv, norm, ReLU, [dropout], reflect pad, 3x3 conv, norm)(x)."""

    def __init__(self, channels: int, norm: NormName, dropout: float, bias: bool):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels), nn.ReLU(True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResNetGenerator(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_blocks: int = 9,
        base_channels: int = 64,
        norm: NormName = "instance",
        dropout: float = 0.0,
        upsample: Literal["transpose", "bilinear"] = "transpose",
    ) -> None:
        super().__init__()
        if upsample not in ("transpose", "bilinear"):
            raise ValueError(f"unknown upsample '{upsample}'; use transpose or bilinear")
        self.n_blocks = n_blocks
        self.upsample = upsample
        bias = uses_bias(norm)
        c = base_channels
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, c, 7, bias=bias), norm_layer(norm, c), nn.ReLU(True),
        ]
        for i in range(N_DOWN):
            w = c * 2**i
            layers += [nn.Conv2d(w, 2 * w, 3, stride=2, padding=1, bias=bias), norm_layer(norm, 2 * w), nn.ReLU(True)]
        self.blocks = slice(len(layers), len(layers) + n_blocks)  # where the residual blocks sit in `model`
        layers += [ResidualBlock(c * 2**N_DOWN, norm, dropout, bias) for _ in range(n_blocks)]
        for i in range(N_DOWN, 0, -1):
            w = c * 2**i
            layers += [_up(w, w // 2, upsample, bias), norm_layer(norm, w // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    SIZE_MULTIPLE = 2**N_DOWN  # Input height and width must be multiples of this (the predictor pads to it)

    # Inference may run the residual blocks alone in bf16 (`inference/precision.py`, set by the
    # Predictor to the device type): they do about 77% of ResNet-9's multiply-adds at a quarter of
    # the resolution, while the full-resolution ends, where rounding the image itself to bf16 costs
    # most, stay float32. On a random ResNet-9 the whole network in bf16 was 43.6 dB from float32,
    # the blocks alone 48.7 dB. None: the whole network runs in the caller's precision.
    bf16_blocks_on: str | None = None

    @property
    def size_multiple(self) -> int:
        return self.SIZE_MULTIPLE

    @property
    def receptive_field(self) -> int:
        """Theoretical input pixels (per side) one output pixel can see; norms aside."""
        layers: list[Layer] = [("conv", 7, 1, 3)] + [("conv", 3, 2, 1)] * N_DOWN
        layers += [("conv", 3, 1, 1)] * (2 * self.n_blocks)
        layers += up_layers(self.upsample, 3, 1) * N_DOWN + [("conv", 7, 1, 3)]
        return receptive_field(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.size_multiple
        if x.shape[-2] % m or x.shape[-1] % m:
            raise ValueError(f"ResNet generator needs sizes divisible by {m}, got {tuple(x.shape[-2:])}")
        if self.bf16_blocks_on is None:
            return self.model(x)
        x = self.model[: self.blocks.start](x)
        with torch.autocast(self.bf16_blocks_on, dtype=torch.bfloat16):
            x = self.model[self.blocks](x)
        return self.model[self.blocks.stop :](x.float())


def _up(in_ch: int, out_ch: int, mode: str, bias: bool) -> nn.Module:
    if mode == "transpose":
        return nn.ConvTranspose2d(in_ch, out_ch, 3, stride=2, padding=1, output_padding=1, bias=bias)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=bias),
    )
