"""Noise2Void (Krull, Buchholz and Jug, CVPR 2019): a denoiser trained on noisy images alone.

A network that sees a pixel cannot learn to denoise it from its own noisy value (it would copy
it), so training hides a few pixels of every crop behind a "blind spot" (each replaced by a random
neighbour) and scores the output only there, against the hidden noisy values. With noise that is
independent from pixel to pixel and zero-mean, the best guess of a hidden noisy value from its
surroundings is the clean value, so the network learns to denoise without ever seeing a clean
image. At inference it runs on the whole, unmasked image like any translation model.

This folder is the whole kind: the config section and declaration (here), how a training example
is made (examples.py) and the Lightning module (module.py). It is registered by one line in
img2img/kinds/__init__.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from img2img.config.sections import Section, UNetConfig
from img2img.kinds.base import ModelKind, Preset


# U-Net down-samplings unless a config says otherwise. A blind-spot denoiser needs a small receptive
# field (CAREamics: depth 2), and a deep U-Net trained on small crops learns what crop borders look
# like and paints a frame inside whole images: depth 5 on 64 px crops scored 39.2 dB on held-out
# nuclei, depth 3 42.1 dB (same 800 steps; docs/noise2void.md).
DEFAULT_DEPTH = 3
GENERATOR_DEFAULTS = {"depth": DEFAULT_DEPTH, "dropout": 0.0, "upsample": "bilinear"}


class N2VConfig(Section):
    """Noise2Void: the U-Net of Pix2Pix with a linear output, trained on blind-spot pixels."""

    name: Literal["n2v"] = "n2v"
    generator: UNetConfig = UNetConfig(**GENERATOR_DEFAULTS)
    masked_fraction: float = Field(
        0.015, gt=0.0, le=0.1,
        description="share of each crop's pixels hidden behind the blind spot (paper: 64 of a 64x64 patch, 1.6%; "
                    "CAREamics: 0.2%), drawn one per cell of a regular grid so they spread evenly")
    neighbourhood: int = Field(5, ge=3, le=15, description="side of the window a hidden pixel's replacement is "
                                                           "drawn from (itself excluded); odd")

    @field_validator("generator", mode="before")
    @classmethod
    def _kind_defaults(cls, generator):
        """A partial generator section keeps this kind's defaults for what it leaves out, not the
        Pix2Pix U-Net's (dropout 0.5 would add noise to a denoiser's output; depth would follow the
        patch down to 1x1)."""
        return {**GENERATOR_DEFAULTS, **generator} if isinstance(generator, dict) else generator

    @model_validator(mode="after")
    def _odd_window(self) -> "N2VConfig":
        if self.neighbourhood % 2 == 0:
            raise ValueError(f"neighbourhood {self.neighbourhood}: give an odd window side, e.g. 5")
        return self


def _preset(steps: int, channels: int) -> dict:
    return {"name": "n2v", "generator": {"base_channels": channels}}


KIND = ModelKind(
    name="n2v", config=N2VConfig, module="img2img.kinds.n2v.module:Noise2Void",
    data=("single",), default_generator="unet", task="translation",
    wrong_data="model n2v learns from noisy images alone: give data.image_dir (a folder of noisy images)",
    # No clean image to score against: the blind-spot loss on held-out images picks best.ckpt.
    best_metric="val/loss",
    # Adam's beta1 0.9, not the GANs' 0.5: blind-spot gradients are noisy and need the longer average
    # (img2img synth denoise, 800 steps: held-out PSNR 39.2 dB with 0.9, 35.4 with 0.5; docs/noise2void.md).
    optimizer={"beta1": 0.9},
    examples="img2img.kinds.n2v.examples:BlindSpotExamples",
    presets=(Preset("n2v", "Noise2Void denoising (one noisy image layer)", _preset, "single",
                    data_settings={"patches_per_image": 4}),),
)
