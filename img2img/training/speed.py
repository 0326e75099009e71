"""What `trainer.precision`, `channels_last` and `compile: auto` mean on this machine, and a
callback that applies the last two.

Measured (docs/benchmarks.md): on GPUs bf16 autocast, NHWC layout and torch.compile each speed up
convolutional GANs, so 'auto' turns them on there. On CPUs, bf16 pays only with native bf16
matrix units (AMX/AVX512-BF16), and then together with channels_last; compiling costs minutes of
start-up on a CPU for a small gain, so 'auto' leaves it off.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytorch_lightning as pl
import torch

from img2img.config.schema import TrainerConfig
from img2img.inference.device import cpu_has_bf16_units

# Whether bf16 autocast makes a CPU training step faster where the CPU has bf16 units. Measured on a
# 2-core AMX CPU (U-Net depth 7 at 128 px, D+G step): fp32 0.18 steps/s, bf16 0.13, bf16 + NHWC 0.07.
CPU_BF16_TRAINING_HELPS = False


@dataclass(frozen=True)
class Speed:
    precision: str
    channels_last: bool
    compile: bool


def on_gpu(t: TrainerConfig) -> bool:
    return t.accelerator in ("gpu", "cuda") or (t.accelerator == "auto" and torch.cuda.is_available())


def resolve_speed(t: TrainerConfig) -> Speed:
    gpu = on_gpu(t)
    if t.precision != "auto":
        precision = t.precision
    elif gpu:
        precision = "bf16-mixed" if torch.cuda.is_bf16_supported() else "32"
    else:
        precision = "bf16-mixed" if CPU_BF16_TRAINING_HELPS and cpu_has_bf16_units() else "32"
    channels_last = (gpu or precision == "bf16-mixed") if t.channels_last == "auto" else t.channels_last
    compile_ = gpu if t.compile == "auto" else t.compile
    return Speed(precision, bool(channels_last), bool(compile_))


class SpeedSwitches(pl.Callback):
    """NHWC weights and compiled networks, applied once the module sits on its device. Validation
    runs eager (`force_eager`), as its whole images of varying sizes would recompile each time."""

    def __init__(self, speed: Speed):
        self.speed = speed

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.speed.channels_last:
            pl_module.to(memory_format=torch.channels_last)
        if self.speed.compile:
            for net in pl_module.networks():
                net.compile()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.speed.compile:
            torch.compiler.set_stance("force_eager")

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.speed.compile:
            torch.compiler.set_stance("default")
