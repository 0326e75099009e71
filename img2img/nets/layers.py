"""Small building blocks shared by generators and discriminators."""

from __future__ import annotations

from typing import Literal

import torch.nn as nn

NormName = Literal["batch", "instance", "none"]


def norm_layer(name: NormName, channels: int) -> nn.Module:
    """Batch norm (Pix2Pix reference), instance norm (CycleGAN reference) or nothing."""
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{name}'; use batch, instance or none")


def uses_bias(norm: NormName) -> bool:
    """A conv before batch norm needs no bias: the norm's shift replaces it."""
    return norm != "batch"


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """The Pix2Pix/CycleGAN initialisation: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
