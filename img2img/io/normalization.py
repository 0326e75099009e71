"""Intensity normalization to the [-1, 1] range GAN generators expect, and its inverse.

Microscopy intensities vary wildly between images and instruments, so the default maps
each image's 1st..99.8th percentile (per channel) onto [-1, 1]. The settings travel inside
the checkpoint, so inference normalizes exactly as training did.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

# Percentiles of huge images are estimated from at most this many pixels per channel.
_MAX_SAMPLES = 1 << 22


class Normalization(BaseModel):
    """How raw intensities become network inputs.

    percentile: per image and channel, the `low`..`high` percentiles map to -1..1.
    fixed: `min_value`..`max_value` map to -1..1 for every image (e.g. 0..4095 for a 12-bit camera).
    dtype: the full range of the pixel type (0..255, 0..65535; floats are taken as 0..1).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["percentile", "fixed", "dtype"] = "percentile"
    low: float = Field(1.0, ge=0, le=100, description="lower percentile (percentile mode)")
    high: float = Field(99.8, ge=0, le=100, description="upper percentile (percentile mode)")
    min_value: float | None = None
    max_value: float | None = None

    @model_validator(mode="after")
    def _check(self) -> "Normalization":
        if self.mode == "percentile" and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be smaller than high ({self.high})")
        if self.mode == "fixed":
            if self.min_value is None or self.max_value is None:
                raise ValueError("mode 'fixed' needs min_value and max_value")
            if not self.min_value < self.max_value:
                raise ValueError("min_value must be smaller than max_value")
        return self

    def range_of(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (lo, hi) for a (C, H, W) image, each of shape (C,)."""
        n_channels = image.shape[0]
        if self.mode == "fixed":
            return np.full(n_channels, self.min_value), np.full(n_channels, self.max_value)
        if self.mode == "dtype":
            top = float(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else 1.0
            return np.zeros(n_channels), np.full(n_channels, top)
        # Subsample rows and columns (not the flattened array) so that a strided view of a huge
        # or memory-mapped plane is never copied whole.
        step = max(1, int(np.ceil(np.sqrt(image.shape[-2] * image.shape[-1] / _MAX_SAMPLES))))
        flat = np.asarray(image[:, ::step, ::step]).reshape(n_channels, -1)
        percentile = np.nanpercentile if flat.dtype.kind == "f" else np.percentile
        lo, hi = percentile(flat, [self.low, self.high], axis=1)
        return np.nan_to_num(lo), np.nan_to_num(hi, nan=1.0)

    def normalize(self, image: np.ndarray) -> np.ndarray:
        """(C, H, W) raw pixels -> float32 roughly in [-1, 1]; NaN pixels (masked-out areas of
        float images) become the low end instead of spreading through the network."""
        return self.apply(image, *self.range_of(image))

    @staticmethod
    def apply(image: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """`normalize` with a range found beforehand, e.g. over a whole plane, applied to one tile."""
        x = scale_to_unit(image, lo, hi)
        return np.nan_to_num(x, nan=-1.0, posinf=1.0, neginf=-1.0) if image.dtype.kind == "f" else x


def scale_to_unit(image: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Map per-channel lo..hi onto -1..1 (not clipped: bright outliers keep their order)."""
    lo = np.asarray(lo, dtype=np.float32).reshape(-1, 1, 1)
    span = np.maximum(np.asarray(hi, dtype=np.float32).reshape(-1, 1, 1) - lo, 1e-6)
    return ((image.astype(np.float32) - lo) / span * 2.0 - 1.0).astype(np.float32)


def unscale_from_unit(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, dtype: np.dtype | str) -> np.ndarray:
    """Inverse of `scale_to_unit`, clipped to the range of `dtype` (clipped, never wrapped)."""
    lo = np.asarray(lo, dtype=np.float32).reshape(-1, 1, 1)
    hi = np.asarray(hi, dtype=np.float32).reshape(-1, 1, 1)
    out = (x.astype(np.float32) + 1.0) / 2.0 * (hi - lo) + lo
    return cast_clipped(out, dtype)


def cast_clipped(x: np.ndarray, dtype: np.dtype | str) -> np.ndarray:
    """Round and clip into an integer type, or just cast to a float type."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(x), info.min, info.max).astype(dtype)
    return x.astype(dtype)
