"""The building blocks of the training configuration that model kinds share: the strict
`Section` base (unknown keys and booleans-for-numbers are errors) and the network sections
(generators, discriminators, degradations, hole masks). Each kind's own model section lives in
its kind file (img2img/kinds/), and `schema.py` assembles the whole tree from the registry.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, raw: Any) -> Any:
        """pydantic takes true as 1 where a number is expected, and YAML reads true, yes and on as
        booleans: `schedule.steps: true` trained a single step without a word. (A model validator:
        pydantic allows no field validator on the discriminator fields `name` and `kind`.)"""
        if not isinstance(raw, dict):
            return raw
        for name, value in raw.items():
            field = cls.model_fields.get(name)
            kind = _number_kind(field.annotation) if field is not None else None
            items = value if isinstance(value, (list, tuple)) else [value]
            if kind is not None and any(isinstance(v, bool) for v in items):
                raise PydanticCustomError(
                    "bool_for_number", "expected {kind}, got {value} (YAML reads true/false, yes/no and on/off as booleans)",
                    {"field": name, "kind": kind, "value": json.dumps(value)},
                )
        return raw


def _number_kind(annotation: Any) -> str | None:
    """"a whole number" or "a number" where an annotation takes numbers but no booleans, else None."""
    kinds = _types_in(annotation)
    if bool in kinds or any(isinstance(k, bool) for k in kinds):
        return None
    return "a whole number" if int in kinds else "a number" if float in kinds else None


def _types_in(annotation: Any) -> set:
    """The types (and Literal values) an annotation admits, through unions, Optional and tuples."""
    if annotation is Any:
        return {bool, int, float}
    if get_origin(annotation) is Literal:
        return set(get_args(annotation))
    args = get_args(annotation)
    return set().union(*(_types_in(a) for a in args)) if args else {annotation}


class UNetConfig(Section):
    """The Pix2Pix reference generator: skip connections keep fine detail of the input."""

    kind: Literal["unet"] = "unet"
    depth: int | None = Field(None, ge=2, le=10, description="down-samplings; default: patch reaches 1x1, at most 8")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "instance", "none"] = "batch"
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    upsample: Literal["transpose", "bilinear"] = "transpose"


class ResNetConfig(Section):
    """The CycleGAN reference generator: two down-samplings, residual blocks, two up-samplings."""

    kind: Literal["resnet"] = "resnet"
    n_blocks: int = Field(9, ge=1, le=32, description="residual blocks (reference: 9 at 256 px, 6 at 128 px)")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "instance", "none"] = "instance"
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="inside each residual block")
    upsample: Literal["transpose", "bilinear"] = "transpose"


GeneratorConfig = Annotated[Union[UNetConfig, ResNetConfig], Field(discriminator="kind")]
GENERATOR_CONFIGS: dict[str, type[Section]] = {"unet": UNetConfig, "resnet": ResNetConfig}


class DiscriminatorConfig(Section):
    base_channels: int = Field(64, ge=4)
    n_layers: int = Field(3, ge=1, le=6, description="3 gives the reference 70x70 PatchGAN")
    norm: Literal["batch", "instance", "none"] = "batch"


class CycleGANDiscriminatorConfig(DiscriminatorConfig):
    """The reference CycleGAN PatchGAN uses instance norm (batches are of one image)."""

    norm: Literal["batch", "instance", "none"] = "instance"


class SRResNetConfig(Section):
    """SRResNet (Ledig et al. 2017): residual blocks at low resolution, PixelShuffle up-sampling."""

    kind: Literal["srresnet"] = "srresnet"
    n_blocks: int = Field(16, ge=1, le=64, description="residual blocks (reference: 16)")
    base_channels: int = Field(64, ge=4)
    norm: Literal["batch", "none"] = Field("batch", description="reference SRResNet: batch; EDSR found none better")


class RRDBConfig(Section):
    """ESRGAN's residual-in-residual dense blocks, without batch norm (it causes artefacts in SR)."""

    kind: Literal["rrdb"] = "rrdb"
    n_blocks: int = Field(23, ge=1, le=64, description="RRDBs (reference: 23)")
    base_channels: int = Field(64, ge=4)
    growth_channels: int = Field(32, ge=4, description="channels each dense layer adds")


SRGeneratorConfig = Annotated[Union[SRResNetConfig, RRDBConfig], Field(discriminator="kind")]


class DegradationConfig(Section):
    """How a high-resolution crop becomes its low-resolution input: optional blur (the
    microscope's PSF), downscaling, optional noise (the camera's), in that order."""

    downscale: Literal["bicubic", "area"] = Field("bicubic", description="bicubic (antialiased) or area (pixel binning)")
    blur_sigma: float = Field(0.0, ge=0.0, le=10.0, description="Gaussian PSF sigma in high-resolution pixels; 0: none")
    noise_std: float = Field(0.0, ge=0.0, le=0.5, description="Gaussian noise std as a share of the intensity range; 0: none")


class GatedConfig(Section):
    """DeepFill v2's coarse gated-convolution network, slimmed (two down-samplings, dilated middle)."""

    kind: Literal["gated"] = "gated"
    base_channels: int = Field(32, ge=4, description="DeepFill v2: 48")
    n_dilated: int = Field(4, ge=0, le=8, description="dilated gated convolutions (dilation 2, 4, 8, 16) in the middle")


class MaskConfig(Section):
    """Training holes, drawn fresh for every crop; sizes in pixels (DeepFill v2's, for 256 px images)."""

    strokes: tuple[int, int] = Field((1, 3), description="min and max free-form strokes per mask")
    stroke_width: tuple[float, float] = Field((12.0, 40.0), description="stroke width range, px")
    box_probability: float = Field(0.3, ge=0.0, le=1.0, description="share of masks that are a box")
    both_probability: float = Field(0.3, ge=0.0, le=1.0, description="share of box masks that also get strokes")
    box_size: tuple[float, float] = Field((16.0, 64.0), description="box side range, px")

    @model_validator(mode="after")
    def _ranges(self) -> "MaskConfig":
        for name in ("strokes", "stroke_width", "box_size"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(f"{name} [{lo}, {hi}]: give [min, max] with 0 <= min <= max")
        return self



def with_generator_kind(raw: Any, kind: str) -> Any:
    """Configs and checkpoints from before `generator.kind` existed mean the kind's default network."""
    if isinstance(raw, dict) and isinstance(raw.get("generator"), dict) and "kind" not in raw["generator"]:
        raw = {**raw, "generator": {"kind": kind, **raw["generator"]}}
    return raw
