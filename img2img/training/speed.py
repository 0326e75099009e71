"""What `trainer.precision`, `channels_last` and `compile: auto` mean on this machine, and a
callback that applies the last two.

Measured (docs/benchmarks.md): on GPUs bf16 autocast, NHWC layout and torch.compile each speed up
convolutional GANs, so 'auto' turns them on there. On CPUs, bf16 pays only with native bf16
matrix units (AMX/AVX512-BF16); there NHWC pays for some networks and not others, so it is chosen
from the networks themselves when training starts (`nhwc_pays_on_cpu`); compiling costs minutes
of start-up on a CPU for a small gain, so 'auto' leaves it off.
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
    channels_last: bool | None  # None: chosen from the networks at fit start (`nhwc_pays_on_cpu`)
    compile: bool


def nhwc_pays_on_cpu(module: torch.nn.Module) -> bool:
    """Whether NHWC makes a bf16 training step on a CPU faster, from the layers of the generator
    (the module itself where it has none).

    Measured on an idle 2-core AMX CPU at 128 px, NHWC against NCHW, batch 1 / default batch:
    generators of plain convolutions and up-sampling ran faster: Noise2Void's U-Net 1.69x / 2.21x,
    colorization 1.13x / 1.41x, super-resolution 1.19x / 1.24x (its discriminator has instance
    norm), inpainting 1.09x / 1.09x; those with transposed convolutions or instance norm slower:
    Pix2Pix's U-Net 0.83x / 1.00x, CycleGAN's ResNet-9 0.91x."""
    generator = getattr(module, "generator", module)
    return not any(isinstance(m, torch.nn.ConvTranspose2d | torch.nn.InstanceNorm2d) for m in generator.modules())


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
    if t.channels_last != "auto":
        channels_last = bool(t.channels_last)
    else:
        channels_last = True if gpu else (None if precision == "bf16-mixed" else False)
    compile_ = gpu if t.compile == "auto" else t.compile
    return Speed(precision, channels_last, bool(compile_))


class SpeedSwitches(pl.Callback):
    """NHWC weights and compiled networks, applied once the module sits on its device. Validation
    runs eager (`force_eager`), as its whole images of varying sizes would recompile each time."""

    def __init__(self, speed: Speed):
        self.speed = speed

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        channels_last = self.speed.channels_last
        if channels_last is None:
            channels_last = nhwc_pays_on_cpu(pl_module)
        if channels_last:
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
