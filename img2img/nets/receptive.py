"""Theoretical receptive fields from layer geometry, for tile overlaps and docs.

The textbook formula (r += (k - 1) * jump) undercounts transposed convolutions and
upsampling: two neighbouring output pixels of a stride-2 up layer read three input pixels,
not two. So one output pixel's dependency interval is propagated back through the layers,
for every phase of the stride pattern, and the widest span wins.
"""

from __future__ import annotations

import math
from typing import Literal

LayerKind = Literal["conv", "transpose", "bilinear"]
Layer = tuple[LayerKind, int, int, int]  # kind, kernel, stride, padding (bilinear: scale in `stride`)


def receptive_field(layers: list[Layer]) -> int:
    """Widest input span (pixels per side) that one output pixel depends on."""
    period = math.prod(s for _, _, s, _ in layers)
    widest = 0
    for phase in range(period):
        lo = hi = period * 8 + phase
        for kind, k, s, p in reversed(layers):
            lo, hi = _inputs_of(kind, k, s, p, lo, hi)
        widest = max(widest, hi - lo + 1)
    return widest


def _inputs_of(kind: LayerKind, k: int, s: int, p: int, lo: int, hi: int) -> tuple[int, int]:
    """Input interval read by the output interval [lo, hi] of one layer."""
    if kind == "conv":  # output o reads o*s - p .. o*s - p + k - 1
        return lo * s - p, hi * s - p + k - 1
    if kind == "transpose":  # output o receives from inputs i with o = i*s - p + t, 0 <= t < k
        return -((k - 1 - lo - p) // s), (hi + p) // s
    if kind == "bilinear":  # align_corners=False: o reads floor((o + 0.5) / s - 0.5) and the next
        return math.floor((lo + 0.5) / s - 0.5), math.floor((hi + 0.5) / s - 0.5) + 1
    raise ValueError(f"unknown layer kind '{kind}'")


def up_layers(mode: str, kernel: int, padding: int) -> list[Layer]:
    """A stride-2 up layer: a transposed conv, or bilinear upsampling and a 3x3 conv."""
    return [("transpose", kernel, 2, padding)] if mode == "transpose" else [("bilinear", 0, 2, 0), ("conv", 3, 1, 1)]
