"""When `Predictor` compiles its network on its own, and where compiled kernels stay between runs.

torch.compile pays for some generators and not others. Measured per tile on the 2-core AMX CPU
(eager vs compiled, same process, alternating): ResNet-9 1.3x in bf16 and 1.6x in float32 at
512 px; U-Net-256 0.89x in bf16 at 2048 px (slower); SRResNet 0.90x; the gated inpainting net and
the colorizer's chroma wrapper do not compile at all under inference mode (a Dynamo guard error on
tensors made from numpy in their forward). So `compile='auto'` compiles only generators measured
to gain (`COMPILE_PAYS`), and only for a plane whose own work repays the first compile of its tile
shape (15-45 s on that CPU): the network's FLOPs per input pixel, counted once, times the plane's
pixels and the overlap's extra, against a per-device threshold. The rule reads the model, the
device and the plane's shape and nothing else, so a file is computed the same way alone or in a
folder, in any order (compiled kernels round differently from eager ones).

Inductor keeps what it compiled (FX graph cache) in a folder; by default a temporary one that a
reboot empties. `use_persistent_cache` points it at the user's cache folder instead, unless the
user set TORCHINDUCTOR_CACHE_DIR, so the next run of the same model and tile shape compiles in a
fraction of the time (ResNet-9: about 45 s cold, 5-15 s from the cache on the 2-core CPU).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

# Work of one plane (FLOPs of an eager pass) from which compiling it pays. CPU: about 40 s of eager
# ResNet-9 work on the measured CPU (a 1600 px plane; a 2048 px one is 8e12 with the overlap), against
# 5-45 s of compiling for a 1.3-1.6x gain. GPU: not measured yet; compiling takes tens of seconds there
# and a 2048 px plane a fraction of one, so only planes of several hundred megapixels qualify.
COMPILE_MIN_FLOPS = {"cpu": 4e12, "cuda": 500e12}
COMPILE_PAYS = ("ResNetGenerator",)  # generator classes measured to run faster compiled (above)
COMPILE_MODES = ("auto", "on", "off")


def compile_setting(value: bool | str | None) -> str:
    """'auto', 'on' or 'off' from the Predictor's `compile` (True/False as before; None = auto)."""
    if value is None or value == "auto":
        return "auto"
    if value is True or value == "on":
        return "on"
    if value is False or value == "off":
        return "off"
    from img2img.errors import UserError

    raise UserError(f"--compile {value}: use auto, on or off")


def flops_per_pixel(net: torch.nn.Module, channels: int, side: int, device: torch.device) -> float:
    """FLOPs of one forward pass per input pixel, counted on a (1, C, side, side) input."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, channels, side, side, device=device)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        net(x)
    return counter.get_total_flops() / side**2


def worth_compiling(net: torch.nn.Module, flops: float, device: torch.device) -> bool:
    """Whether `net` (a generator) compiled repays its compile for a plane of `flops` eager work."""
    return type(net).__name__ in COMPILE_PAYS and flops >= COMPILE_MIN_FLOPS.get(device.type, float("inf"))


def use_persistent_cache() -> None:
    """Keep Inductor's compiled kernels in the user's cache folder (unless the user chose one)."""
    if "TORCHINDUCTOR_CACHE_DIR" in os.environ:
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "img2img" / "inductor"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: Inductor's temporary folder still works
        return
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
