"""PatchGAN discriminator: classifies overlapping patches as real or fake.

With 3 layers each output value sees a 70x70 input patch (the Pix2Pix/CycleGAN default);
judging local texture, not global layout, is what keeps outputs sharp.
"""

from __future__ import annotations

import torch.nn as nn

from img2img.nets.layers import NormName, init_weights, norm_layer, uses_bias


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int, base_channels: int = 64, n_layers: int = 3, norm: NormName = "batch"):
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = base_channels
        for n in range(1, n_layers + 1):
            prev, width = width, base_channels * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(prev, width, 4, stride, 1, bias=bias), norm_layer(norm, width), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x):
        return self.model(x)


def receptive_field(n_layers: int) -> int:
    """Input pixels seen by one output value (70 for 3 layers)."""
    rf = 1
    strides = [2] * n_layers + [1, 1]
    for stride in reversed(strides):
        rf = (rf - 1) * stride + 4
    return rf
