"""Which device and arithmetic inference runs with.

bf16 autocast roughly doubles throughput on GPUs and on CPUs with bf16 matrix units (AMX,
AVX512-BF16), but it is a lossy choice: `Predictor` checks each model's bf16 output against
float32 on the first tiles and keeps float32 where the difference is large.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import torch

from img2img.errors import UserError

PRECISIONS = ("auto", "32", "bf16")


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise UserError(f"--device {device}: use auto, cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UserError(f"--device {device}: {torch.cuda.device_count()} CUDA GPU(s) visible; use --device cpu or another index")
    return device


@lru_cache(maxsize=1)
def cpu_has_bf16_units() -> bool:
    """True on x86 CPUs with AMX or AVX512-BF16, where bf16 matmuls are native, not emulated."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_bf16_units()


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' where the hardware runs it natively, else '32'."""
    if precision not in PRECISIONS:
        raise UserError(f"--precision {precision}: use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "32"
    if precision == "bf16" and not bf16_supported(device) and device.type == "cuda":
        raise UserError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bf16 support; use --precision 32")
    return precision


def default_tile(device: torch.device) -> int:
    """Big tiles amortise the overlap and the per-call cost of deep U-Nets: on a 2-core CPU,
    U-Net-256 ran 3x faster with 2048 px tiles than with 1024, but ResNet-9 then peaked at
    3.7 GB of memory. 1024 px is the compromise (docs/benchmarks.md)."""
    return 1024


def default_batch(device: torch.device) -> int:
    return 8 if device.type == "cuda" else 1
