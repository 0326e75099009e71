"""Super-resolution (SRGAN/ESRGAN): learns from clean images (downscaled on the fly) or pairs.
The module is img2img/models/superres.py."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from img2img.config.sections import (
    CycleGANDiscriminatorConfig, DegradationConfig, Section, SRGeneratorConfig, SRResNetConfig, with_generator_kind,
)
from img2img.kinds.base import ModelKind, Preset


class SuperResConfig(Section):
    """Super-resolution GAN (SRGAN/ESRGAN): L1 pre-training, then L1 + adversarial (+ features)."""

    name: Literal["superres"] = "superres"
    scale: Literal[2, 4] = Field(2, description="output pixels per input pixel along each axis")
    generator: SRGeneratorConfig = SRResNetConfig()
    discriminator: CycleGANDiscriminatorConfig = CycleGANDiscriminatorConfig()
    degradation: DegradationConfig = DegradationConfig()
    pretrain_steps: int = Field(1000, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(1.0, ge=0.0)
    gan_weight: float = Field(0.005, ge=0.0, description="ESRGAN: 0.005 with L1 0.01 and features 1; 0 trains L1 only")
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    feature_weights: Path | None = Field(
        None, description="VGG-19 weights file (torchvision layout, features.N.*) for a perceptual loss; none downloaded")
    feature_layer: int = Field(34, ge=1, le=35, description="last VGG-19 features layer used (34: conv5_4, as ESRGAN)")
    feature_weight: float = Field(1.0, ge=0.0)

    @model_validator(mode="before")
    @classmethod
    def _default_generator_kind(cls, raw):
        return with_generator_kind(raw, "srresnet")


def _check(config) -> None:
    if config.data.patch_size % config.model.scale:
        raise ValueError(f"data.patch_size {config.data.patch_size} (high-resolution crop) must be a multiple of "
                         f"model.scale {config.model.scale}")


def _preset(steps: int, channels: int) -> dict:
    return {"name": "superres", "scale": 2, "pretrain_steps": steps // 2, "discriminator": {"base_channels": channels},
            "generator": {"kind": "srresnet", "n_blocks": 8, "base_channels": channels, "norm": "none"}}


KIND = ModelKind(
    name="superres", config=SuperResConfig, module="img2img.models.superres:SuperRes",
    data=("single", "paired"), default_generator="srresnet", task="translation", check=_check,
    examples="img2img.data.examples:SuperResExamples", paired_data="img2img.data.sr_pairs:SRPairDataModule",
    evaluator="img2img.evaluation.superres:evaluate_superres", target_optional=True,
    output_scale=lambda model: model.scale,
    presets=(Preset("superres", "super-resolution x2 (one image layer)", _preset, "single",
                    data_settings={"patches_per_image": 4}),),
)
