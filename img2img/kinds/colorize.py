"""Colorization (gray -> colour from clean colour images) and virtual staining (pairs).
The module is img2img/models/colorize.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from img2img.config.sections import (
    DiscriminatorConfig, GeneratorConfig, Section, UNetConfig, with_generator_kind,
)
from img2img.kinds.base import ModelKind, Preset


class ColorizeConfig(Section):
    """Colorization (gray -> colour, chroma predicted, the input's luminance kept) and, with
    keep_luminance false, virtual staining between any channel counts (paired folders)."""

    name: Literal["colorize"] = "colorize"
    generator: GeneratorConfig = UNetConfig(dropout=0.0, upsample="bilinear")
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    keep_luminance: bool = Field(
        True, description="true: 1-channel input -> RGB, predicting YUV chroma (UV) and keeping the input as Y; "
                          "false: predict all output channels (virtual staining, paired folders)")
    pretrain_steps: int = Field(0, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(100.0, ge=0.0, description="Pix2Pix: 100")
    gan_weight: float = Field(1.0, ge=0.0)
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        return with_generator_kind(raw, "unet")


def _check(config) -> None:
    if not config.model.keep_luminance and config.data.kind == "single":
        raise ValueError("model.keep_luminance false (virtual staining) learns from pairs: give data.input_dir "
                         "and data.target_dir")


def _preset(steps: int, channels: int) -> dict:
    return {"name": "colorize", "pretrain_steps": steps // 2, "generator": {"base_channels": channels},
            "discriminator": {"base_channels": channels}}


KIND = ModelKind(
    name="colorize", config=ColorizeConfig, module="img2img.models.colorize:Colorize",
    data=("single", "paired"), default_generator="unet", task="translation", check=_check,
    examples="img2img.data.examples:ColorizeExamples", data_check="img2img.data.examples:check_colorize_pairs",
    evaluator="img2img.evaluation.colorize:evaluate_colorize", target_optional=True,
    presets=(Preset("colorize", "colorization (one colour layer)", _preset, "single",
                    data_settings={"patches_per_image": 4}),),
)
