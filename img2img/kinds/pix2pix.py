"""Pix2Pix (Isola et al. 2017): paired translation or segmentation with a conditional PatchGAN.
The module is img2img/models/pix2pix.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from img2img.config.sections import (
    DiscriminatorConfig, GeneratorConfig, Section, UNetConfig, with_generator_kind,
)
from img2img.kinds.base import ModelKind, Preset


class Pix2PixConfig(Section):
    name: Literal["pix2pix"] = "pix2pix"
    generator: GeneratorConfig = UNetConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    l1_weight: float = Field(100.0, ge=0.0, description="lambda of the L1 term (paper: 100)")
    gan_weight: float = Field(1.0, ge=0.0, description="weight of the adversarial term; 0 trains a plain U-Net")
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    foreground_weight: float = Field(
        1.0, ge=1.0, le=100.0,
        description="segmentation: L1 weight of object pixels; raise it when objects cover a few percent of the image",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        """Configs and checkpoints from before `kind` existed mean the U-Net."""
        return with_generator_kind(raw, "unet")


def _preset(steps: int, channels: int) -> dict:
    return {"name": "pix2pix", "generator": {"base_channels": channels}, "discriminator": {"base_channels": channels}}


KIND = ModelKind(
    name="pix2pix", config=Pix2PixConfig, module="img2img.models.pix2pix:Pix2Pix",
    data=("paired",), default_generator="unet",
    presets=(
        Preset("segmentation", "segmentation (image → labels)", _preset, "paired", task="segmentation", lr=4e-4,
               data_settings={"patches_per_image": 4}),
        Preset("translation", "translation (image → image)", _preset, "paired", lr=4e-4,
               data_settings={"patches_per_image": 4}),
    ),
)
