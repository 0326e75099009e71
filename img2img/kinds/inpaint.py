"""Inpainting (DeepFill v2 style): fills holes it punches itself into clean images; at inference
the hole mask is an extra input. The module is img2img/models/inpaint.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from img2img.config.sections import DiscriminatorConfig, GatedConfig, MaskConfig, Section
from img2img.kinds.base import ModelKind, Preset


class InpaintConfig(Section):
    """Inpainting (DeepFill v2 style): image + hole mask in, known pixels copied back out."""

    name: Literal["inpaint"] = "inpaint"
    generator: GatedConfig = GatedConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    masks: MaskConfig = MaskConfig()
    pretrain_steps: int = Field(500, ge=0, description="steps of L1 alone before the adversarial term starts")
    l1_weight: float = Field(1.0, ge=0.0)
    hole_weight: float = Field(6.0, ge=0.0, description="L1 weight of hole pixels (Liu et al. 2018: 6)")
    valid_weight: float = Field(1.0, ge=0.0, description="L1 weight of the raw output on known pixels")
    gan_weight: float = Field(0.01, ge=0.0)
    gan_mode: Literal["vanilla", "lsgan"] = "lsgan"


def _preset(steps: int, channels: int) -> dict:
    return {"name": "inpaint", "pretrain_steps": steps // 2, "discriminator": {"base_channels": channels},
            "generator": {"kind": "gated", "base_channels": max(8, channels // 2)}}


KIND = ModelKind(
    name="inpaint", config=InpaintConfig, module="img2img.models.inpaint:Inpaint",
    data=("single",), default_generator="gated", task="translation",
    wrong_data="model inpaint makes its holes itself: give data.image_dir (a folder of complete images)",
    examples="img2img.data.examples:InpaintExamples", evaluator="img2img.evaluation.inpaint:evaluate_inpaint",
    target_optional=True, takes_mask=True,
    presets=(Preset("inpaint", "inpainting (one image layer)", _preset, "single",
                    data_settings={"patches_per_image": 4}),),
)
