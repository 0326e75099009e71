"""The intensity mapping around an exported network, as the BioImage.IO spec can state it.

Our Predictor maps raw pixels to the network's [-1, 1] with the checkpoint's `Normalization` and the
network's output back to pixels (or, for segmentation, to maps that it decodes into labels). The spec
has per-sample percentile scaling (`scale_range`, linear interpolation like `np.percentile`) and
affine maps (`scale_linear`), which cover every input normalization we have. Outputs:

- segmentation: the raw maps in [0, 1] (foreground, object centres, contacts). The seeded watershed
  that makes labels of them has no spec operation, so packages hold the maps and say so.
- images with `fixed` or `dtype` target normalization: the target's pixel units, clipped to its
  integer range (our Predictor also rounds; the package gives floats).
- images with `percentile` normalization: our Predictor maps [-1, 1] back to the *input's*
  percentile range, which the spec cannot express (its `scale_range` goes the other way), so the
  package gives [0, 1] and the documentation says that this is relative intensity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from img2img.io.normalization import Normalization


@dataclass(frozen=True)
class InputScaling:
    """raw -> [-1, 1]: `percentile` (per sample and channel, then x2 - 1) or `linear` (gain, offset)."""

    mode: str
    low: float = 0.0
    high: float = 100.0
    gain: float = 1.0
    offset: float = 0.0

    def apply(self, image: np.ndarray) -> np.ndarray:
        """(C, H, W) -> float32, as the spec's processing computes it (scale_range's eps included)."""
        x = image.astype(np.float32)
        if self.mode == "percentile":
            lo, hi = np.percentile(x.reshape(len(x), -1), [self.low, self.high], axis=1)
            x = (x - lo[:, None, None].astype(np.float32)) / (hi - lo + 1e-6)[:, None, None].astype(np.float32)
            return (x * 2.0 - 1.0).astype(np.float32)
        return (x * np.float32(self.gain) + np.float32(self.offset)).astype(np.float32)


@dataclass(frozen=True)
class OutputScaling:
    """[-1, 1] -> what the package outputs: gain * y + offset, then clipped to `clip` if given."""

    gain: float
    offset: float
    clip: tuple[float, float] | None
    meaning: str  # for the documentation: what the output's values are

    def apply(self, y: np.ndarray) -> np.ndarray:
        out = (y.astype(np.float32) * np.float32(self.gain) + np.float32(self.offset)).astype(np.float32)
        return np.clip(out, *self.clip).astype(np.float32) if self.clip else out


def dtype_range(dtype: str | None) -> tuple[float, float]:
    """What `dtype` normalization maps onto [-1, 1]: the integer type's full range, floats 0..1."""
    dt = np.dtype(dtype or "float32")
    return (0.0, float(np.iinfo(dt).max)) if dt.kind in "ui" else (0.0, 1.0)


def _linear_range(norm: Normalization, dtype: str | None) -> tuple[float, float] | None:
    if norm.mode == "fixed":
        return float(norm.min_value), float(norm.max_value)
    if norm.mode == "dtype":
        return dtype_range(dtype)
    return None


def input_scaling(norm: Normalization, input_dtype: str | None) -> InputScaling:
    span = _linear_range(norm, input_dtype)
    if span is None:
        return InputScaling("percentile", low=norm.low, high=norm.high)
    lo, hi = span
    return InputScaling("linear", gain=2.0 / (hi - lo), offset=-1.0 - 2.0 * lo / (hi - lo))


def output_scaling(task: str, norm: Normalization, target_dtype: str | None) -> OutputScaling:
    if task == "segmentation":
        return OutputScaling(0.5, 0.5, None, "maps in [0, 1], one per channel (foreground, object centres, "
                                             "contact zones if trained with them); img2img decodes them into labels")
    span = _linear_range(norm, target_dtype)
    if span is None:
        return OutputScaling(0.5, 0.5, None, "relative intensity in [0, 1] (img2img maps it back to each input's "
                                             "percentile range, which the spec cannot express)")
    lo, hi = span
    dt = np.dtype(target_dtype or "float32")
    clip = (float(np.iinfo(dt).min), float(np.iinfo(dt).max)) if dt.kind in "ui" else None
    return OutputScaling((hi - lo) / 2.0, (hi + lo) / 2.0, clip, f"intensity in the target's units ({dt.name})")
