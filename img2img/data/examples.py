"""Each restoration model's recipe for turning a clean crop into a training example:
super-resolution downscales it, inpainting punches holes in it, colorization turns it gray.

A maker takes a normalized (C, H, W) clean crop and a random generator and returns arrays:
`input` (what the network reads), `target`, and for inpainting `mask` (1 = hole).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.config.schema import TrainConfig
from img2img.data.color import rgb_to_yuv
from img2img.data.degradation import crop_to_scale, degrade
from img2img.errors import UserError
from img2img.kinds import kind_of, load
from img2img.data.masks import random_mask


class ExampleMaker:
    scale = 1  # target pixels per input pixel

    def channels(self, clean_channels: int) -> tuple[int, int]:
        """(input channels, output channels) of the model for clean images with this many channels."""
        return clean_channels, clean_channels

    def check_channels(self, clean_channels: int, path: Path) -> None:
        """Raise a UserError naming `path` if the model cannot learn from such images."""

    def make(self, clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError


class SuperResExamples(ExampleMaker):
    def __init__(self, config: TrainConfig):
        self.scale = config.model.scale
        self.degradation = config.model.degradation

    def make(self, clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        hr = np.ascontiguousarray(crop_to_scale(clean, self.scale), dtype=np.float32)
        return {"input": degrade(hr, self.scale, self.degradation, rng), "target": hr}


class InpaintExamples(ExampleMaker):
    """Holes are set to 0 in the input (mid-range after normalization); the net sees the mask too."""

    def __init__(self, config: TrainConfig):
        self.masks = config.model.masks

    def make(self, clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        mask = random_mask(clean.shape[1:], self.masks, rng)[None]
        clean = np.ascontiguousarray(clean, dtype=np.float32)
        return {"input": clean * (1 - mask), "target": clean, "mask": mask}


class ColorizeExamples(ExampleMaker):
    """The input is the luminance Y of the colour crop: what a gray camera would record."""

    def __init__(self, config: TrainConfig):
        pass

    def channels(self, clean_channels: int) -> tuple[int, int]:
        return 1, clean_channels

    def check_channels(self, clean_channels: int, path: Path) -> None:
        check_colour_target(clean_channels, path)

    def make(self, clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        clean = np.ascontiguousarray(clean, dtype=np.float32)
        return {"input": np.ascontiguousarray(rgb_to_yuv(clean)[:1]), "target": clean}


def check_colour_target(channels: int, path: Path) -> None:
    if channels != 3:
        raise UserError(
            f"{path}: has {channels} channel(s) but colorize with keep_luminance needs RGB (3-channel) targets; "
            "give colour images, or set model.keep_luminance: false with paired folders for other channel counts"
        )


def check_colorize_pairs(datamodule) -> None:
    """Colorization with keep_luminance from paired folders: gray inputs, colour targets."""
    config = datamodule.config
    if config.data.kind != "paired" or not config.model.keep_luminance:
        return
    check_colour_target(datamodule.out_channels, datamodule.train_files[0][1])
    if datamodule.in_channels != 1:
        raise UserError(f"{datamodule.train_files[0][0]}: has {datamodule.in_channels} channels but colorize with "
                        "keep_luminance reads one gray channel; give gray inputs or set model.keep_luminance: false")


def example_maker(config: TrainConfig) -> ExampleMaker:
    """The kind's own maker (`ModelKind.examples`) for this config."""
    return load(kind_of(config).examples)(config)
