"""CycleGAN (Zhu et al. 2017): unpaired translation between two folders, run either way.
The module is img2img/models/cyclegan.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from img2img.config.sections import CycleGANDiscriminatorConfig, ResNetConfig, Section
from img2img.kinds.base import ModelKind, Preset


class CycleGANConfig(Section):
    """CycleGAN (Zhu et al. 2017): two generators A->B and B->A, a PatchGAN per domain, trained
    without pairs by cycle consistency. Defaults are the reference ones."""

    name: Literal["cyclegan"] = "cyclegan"
    generator: ResNetConfig = ResNetConfig()
    discriminator: CycleGANDiscriminatorConfig = CycleGANDiscriminatorConfig()
    gan_mode: Literal["lsgan", "vanilla"] = Field("lsgan", description="reference: lsgan (least squares)")
    cycle_weight: float = Field(10.0, ge=0.0, description="lambda of A->B->A and B->A->B L1 (reference: 10)")
    identity_weight: float = Field(
        0.5, ge=0.0, description="identity L1 weight as a share of cycle_weight (reference: 0.5); 0 disables it",
    )
    pool_size: int = Field(50, ge=0, description="history of generated images shown to each discriminator; 0 disables")


def _check(config) -> None:
    if config.target_normalization is not None:
        raise ValueError(
            "target_normalization: CycleGAN scales both domains with `normalization`, so one checkpoint runs "
            "either direction; remove target_normalization"
        )


def _preset(steps: int, channels: int) -> dict:
    return {"name": "cyclegan",
            "generator": {"kind": "resnet", "n_blocks": 6, "base_channels": channels, "upsample": "bilinear"},
            "discriminator": {"base_channels": channels}}


KIND = ModelKind(
    name="cyclegan", config=CycleGANConfig, module="img2img.models.cyclegan:CycleGAN",
    data=("unpaired",), default_generator="resnet", task="translation", task_reason="translates images",
    # Geometry only: noise or blur on one domain changes the very style it learns.
    augmentation={"brightness_contrast": 0.0, "gamma": 0.0, "blur": 0.0, "noise": 0.0},
    # No target to score against: the mean cycle L1 (A->B->A and B->A->B) stands in.
    best_metric="val/loss_cycle", check=_check, directions=("AtoB", "BtoA"),
    presets=(Preset("cyclegan", "CycleGAN (unpaired A ↔ B)", _preset, "unpaired",
                    data_settings={"batch_size": 1, "val_images": 1}),),
)
