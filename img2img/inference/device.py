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


def default_tile(size_multiple: int, device: torch.device) -> int:
    """Measured on a 2-core CPU with bf16 (docs/benchmarks.md): ResNet-9 ran 40% faster per pixel on
    512 px tiles than on 1024 (cache), while deep U-Nets, whose inner layers are tiny, ran 3x faster
    on 2048 px tiles than on 1024. So eight times the size multiple (2048 for U-Net-256), at least
    512 px on a CPU and 1024 on a GPU, where batches of tiles fill the device."""
    floor = 1024 if device.type == "cuda" else 512
    return max(floor, min(2048, 8 * size_multiple))


def default_batch(device: torch.device) -> int:
    return 8 if device.type == "cuda" else 1
