"""What `trainer.precision`, `channels_last` and `compile: auto` mean on this machine, and a
callback that applies the last two.

Measured (docs/benchmarks.md): on GPUs bf16 autocast, NHWC layout and torch.compile each speed up
convolutional GANs, so 'auto' turns them on there. On CPUs, bf16 pays only with native bf16
matrix units (AMX/AVX512-BF16), and there in the default NCHW layout (NHWC slowed ResNet-9's
instance norm down); compiling costs minutes of start-up on a CPU for a small gain, so 'auto'
leaves it off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytorch_lightning as pl
import torch

from img2img.config.schema import TrainerConfig
from img2img.inference.device import cpu_has_bf16_units

# Whether bf16 autocast makes a CPU training step faster where the CPU has bf16 units. Measured on an
# idle 2-core AMX CPU (G + D step, images/s, fp32 NCHW / bf16 NCHW / bf16 NHWC): U-Net-256 batch 4 at
# 256 px 1.80 / 2.66 / 2.90, ResNet-9 batch 1 at 128 px 1.80 / 3.44 / 2.37. (An earlier measurement on
# a machine loaded 5x over its cores had bf16 slower: OpenMP threads of other jobs, not the arithmetic.)
CPU_BF16_TRAINING_HELPS = True


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
    channels_last = gpu if t.channels_last == "auto" else t.channels_last
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


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """Subnormal floats (tiny GAN gradients) run through slow microcode paths on x86 CPUs: a small
    CycleGAN step took 8 s with them and 1.4 s without; values below 1e-38 change no result here.
    The switch is process-wide CPU state, so it is put back afterwards: a napari session or a
    pipeline that trains and then computes on must not inherit it."""
    before = _flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def _flushing_denormals() -> bool:
    smallest = float("5e-324")  # a subnormal double; read as zero while denormals are flushed
    return smallest * 1.0 == 0.0
