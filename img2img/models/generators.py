"""The generator a config asks for (`model.generator.kind`), shared by every model."""

from __future__ import annotations

import torch.nn as nn

from img2img.config.schema import TrainConfig
from img2img.nets import ResNetGenerator, UNetGenerator


def build_generator(config: TrainConfig, in_channels: int, out_channels: int) -> nn.Module:
    g = config.model.generator
    if g.kind == "resnet":
        return ResNetGenerator(
            in_channels, out_channels, n_blocks=g.n_blocks, base_channels=g.base_channels,
            norm=g.norm, dropout=g.dropout, upsample=g.upsample,
        )
    return UNetGenerator(
        in_channels, out_channels, depth=config.generator_depth, base_channels=g.base_channels,
        norm=g.norm, dropout=g.dropout, upsample=g.upsample,
    )
