"""What the Train widget asks for, its defaults (the Restore Defaults button), and the
validated `TrainConfig` built from it: the same schema as `img2img train CONFIG`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from img2img.config import TrainConfig, validate_config

KINDS = {
    "segmentation": "segmentation (image → labels)",
    "translation": "translation (image → image)",
    "cyclegan": "CycleGAN (unpaired A ↔ B)",
    "superres": "super-resolution x2 (one image layer)",
    "inpaint": "inpainting (one image layer)",
    "colorize": "colorization (one colour layer)",
}
# Kinds that learn from clean images alone: their inputs are made on the fly (downscaled,
# masked, turned gray), so there is no target to pick.
SINGLE_LAYER_KINDS = ("superres", "inpaint", "colorize")


@dataclass
class TrainSettings:
    """Defaults sized so a laptop CPU trains a usable nuclei segmenter in a few minutes."""

    kind: str = "segmentation"
    patch_size: int = 128
    steps: int = 500
    batch_size: int = 4
    base_channels: int = 32
    output_dir: str = ""  # empty: a new folder under ~/img2img-models
    init_from: str | None = None  # fine-tune from this checkpoint or builtin:NAME; None: from scratch

    def output_folder(self, name: str) -> Path:
        if self.output_dir:
            return Path(self.output_dir).expanduser()
        return Path.home() / "img2img-models" / f"{name}_{self.kind}_{time.strftime('%Y%m%d-%H%M%S')}"


def training_config(settings: TrainSettings, data: dict, output_dir: Path) -> TrainConfig:
    """A config for `train()`; `data` holds the folder keys (input_dir/target_dir or a_dir/b_dir)."""
    channels = settings.base_channels
    common_data = {"patch_size": settings.patch_size, "num_workers": 0}  # no worker processes from a GUI thread
    if settings.kind == "cyclegan":
        model = {
            "name": "cyclegan",
            "generator": {"kind": "resnet", "n_blocks": 6, "base_channels": channels, "upsample": "bilinear"},
            "discriminator": {"base_channels": channels},
        }
        data_section = {"kind": "unpaired", **data, **common_data, "batch_size": 1, "val_images": 1}
        lr = 2e-4
    elif settings.kind in SINGLE_LAYER_KINDS:
        pretrain = settings.steps // 2  # L1 alone first, then L1 + adversarial
        model = {
            "superres": {"name": "superres", "scale": 2, "pretrain_steps": pretrain,
                         "generator": {"kind": "srresnet", "n_blocks": 8, "base_channels": channels, "norm": "none"}},
            "inpaint": {"name": "inpaint", "pretrain_steps": pretrain,
                        "generator": {"kind": "gated", "base_channels": max(8, channels // 2)}},
            "colorize": {"name": "colorize", "pretrain_steps": pretrain, "generator": {"base_channels": channels}},
        }[settings.kind]
        model["discriminator"] = {"base_channels": channels}
        data_section = {"kind": "single", **data, **common_data, "batch_size": settings.batch_size,
                        "patches_per_image": 4}
        lr = 2e-4
    else:
        model = {"name": "pix2pix", "generator": {"base_channels": channels}, "discriminator": {"base_channels": channels}}
        data_section = {"kind": "paired", **data, **common_data, "batch_size": settings.batch_size,
                        "patches_per_image": 4}
        lr = 4e-4
    raw = {
        "model": model,
        "task": "segmentation" if settings.kind == "segmentation" else "translation",
        "data": data_section,
        "optimizer": {"lr": lr},
        "schedule": {"steps": settings.steps, "decay_start": 0.5},
        "trainer": {"val_every_steps": max(1, settings.steps // 5), "samples": 2},
        "output_dir": str(output_dir),
        "seed": 0,
    }
    if settings.init_from:  # the checkpoint's network, channels and normalization replace the form's
        raw["init_from"] = settings.init_from
    return validate_config(raw, source="Train widget settings")
