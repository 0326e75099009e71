"""How much to rescale each plane before a segmenter trained at one object size sees it.

A segmenter with `segmentation.object_diameter` D learned objects about D px wide. A user may
say how wide theirs are (`--diameter 12`), or let it be measured (`auto`, the default): the
model segments a central crop, the median object diameter gives a scale, and the crop is
segmented again at that scale until the estimate settles (cellpose refines its size estimate
from its own masks in the same way). Each pass runs at a scale closer to the trained one, so
the estimate converges in two or three passes, and the crop keeps it cheap on large images.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from img2img.errors import UserError
from img2img.segmentation.object_size import median_diameter, scale_for

# The estimate looks at a central crop of at most this many pixels per side at the model's scale.
ESTIMATE_SIDE = 768
MAX_PASSES = 4
# A new estimate within this factor of the scale it was made at is taken as settled.
SETTLED = 1.15


def parse_diameter(value) -> float | str | None:
    """`auto`, None or a positive number of pixels (from a CLI string, a widget or Python)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return "auto" if value is not None else None
    try:
        diameter = float(value)
    except (TypeError, ValueError):
        raise UserError(f"--diameter {value}: give the object diameter in pixels (e.g. 17) or auto") from None
    if not diameter > 0 or not math.isfinite(diameter):
        raise UserError(f"--diameter {value}: the object diameter must be a positive number of pixels")
    return diameter


class ObjectScale:
    """The per-plane scale for a model trained at `model_diameter` px (None: no rescaling)."""

    def __init__(self, model_diameter: float | None, diameter: float | str | None):
        diameter = parse_diameter(diameter)
        if model_diameter is None and isinstance(diameter, float):
            raise UserError(f"--diameter {diameter:g}: this model was trained on images as stored (no "
                            "segmentation.object_diameter), so it cannot rescale them; leave --diameter out")
        self.model_diameter = model_diameter
        self.diameter = diameter if diameter is not None else "auto"
        self.last_diameter: float | None = None  # the object diameter used for the latest plane, in its pixels

    @property
    def active(self) -> bool:
        return self.model_diameter is not None

    def scale(self, plane: np.ndarray, segment_at: Callable[[np.ndarray, float], np.ndarray]) -> float:
        """Scale for a (C, H, W) plane; `segment_at(crop, scale)` returns the crop's labels at its own size."""
        if not self.active:
            return 1.0
        if isinstance(self.diameter, float):
            self.last_diameter = self.diameter
            return scale_for(self.diameter, self.model_diameter)
        scale = 1.0
        for _ in range(MAX_PASSES):
            crop = _centre_crop(plane, int(ESTIMATE_SIDE / scale))
            diameter = median_diameter(segment_at(crop, scale))
            if diameter is None:  # nothing found at this scale: keep it, the full pass decides
                return scale
            new = scale_for(diameter, self.model_diameter)
            self.last_diameter = diameter
            if max(new / scale, scale / new) < SETTLED:
                return new
            scale = new
        return scale


def _centre_crop(plane: np.ndarray, side: int) -> np.ndarray:
    h, w = plane.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return plane[..., top : top + side, left : left + side]
