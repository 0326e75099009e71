"""Pixel size carried from an input TIFF to its result, so measurements in Fiji stay in microns.

TIFF stores pixels per unit in XResolution/YResolution with a ResolutionUnit (inch, cm or none);
ImageJ writes unit none plus `unit=micron` in its description. We read either and write the
standard tags in centimetres when the unit is known, which Fiji, napari (via tifffile) and
Bio-Formats all turn back into µm.
"""

from __future__ import annotations

from dataclasses import dataclass

import tifffile

_MICRONS = {"micron", "microns", "um", "µm", "\\u00B5m", "μm"}


@dataclass(frozen=True)
class Resolution:
    """Pixels per unit along X and Y; `unit` is a TIFF ResolutionUnit code (1 none, 2 inch, 3 cm)."""

    x: float
    y: float
    unit: int = 1

    def scaled(self, factor: float) -> "Resolution":
        """Resolution of an image `factor` times larger (super-resolution output)."""
        return Resolution(self.x * factor, self.y * factor, self.unit)

    def tiff_arguments(self) -> dict:
        return {"resolution": (self.x, self.y), "resolutionunit": self.unit}


def read_resolution(tif: tifffile.TiffFile) -> Resolution | None:
    """The first page's pixel size, or None when the file says nothing (or only the 1 px default)."""
    tags = tif.pages.first.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return None
    x, y = (_ratio(tags[name].value) for name in ("XResolution", "YResolution"))
    unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
    if not x or not y:
        return None
    ij = tif.imagej_metadata or {}
    if unit == 1 and str(ij.get("unit", "")).strip() in _MICRONS:
        return Resolution(x * 1e4, y * 1e4, 3)  # px per µm -> px per cm
    if unit == 1 and x == 1 and y == 1:
        return None
    return Resolution(x, y, unit)


def _ratio(value) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else 0.0
    return float(value)
