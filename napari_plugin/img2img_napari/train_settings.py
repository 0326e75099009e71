"""What the Train widget asks for, its defaults (the Restore Defaults button), and the
validated `TrainConfig` built from it: the same schema as `img2img train CONFIG`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from img2img.config import TrainConfig, validate_config
from img2img.kinds import KINDS as KINDS_REGISTERED
from img2img.kinds import Preset

# Every registered kind's menu entries (img2img/kinds/: `ModelKind.presets`), in registry order.
PRESETS: dict[str, Preset] = {preset.key: preset for kind in KINDS_REGISTERED.values() for preset in kind.presets}
KINDS = {key: preset.label for key, preset in PRESETS.items()}
# Kinds that learn from one image layer: their inputs are made on the fly (downscaled, masked,
# turned gray, blind-spot masked), so there is no target to pick.
SINGLE_LAYER_KINDS = tuple(key for key, preset in PRESETS.items() if preset.data == "single")


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
    preset = PRESETS[settings.kind]
    data_section = {"kind": preset.data, **data, "patch_size": settings.patch_size,
                    "num_workers": 0,  # no worker processes from a GUI thread
                    "batch_size": settings.batch_size, **preset.data_settings}
    raw = {
        "model": preset.model(settings.steps, settings.base_channels),
        "task": preset.task,
        "data": data_section,
        "optimizer": {"lr": preset.lr},
        "schedule": {"steps": settings.steps, "decay_start": 0.5},
        "trainer": {"val_every_steps": max(1, settings.steps // 5), "samples": 2},
        "output_dir": str(output_dir),
        "seed": 0,
    }
    if settings.init_from:  # the checkpoint's network, channels and normalization replace the form's
        raw["init_from"] = settings.init_from
    return validate_config(raw, source="Train widget settings")
