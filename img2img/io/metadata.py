"""What an image says about the microscope: the physical size of a pixel along X, Y and Z, and
the time between frames, carried from an input to its result so measurements stay in microns.

One `Calibration` holds them whatever the file: ImageJ TIFFs (XResolution/YResolution with
`unit=` and `spacing=`/`finterval=` in the description), OME-TIFF (the OME-XML `PhysicalSizeX/Y/Z`
and `TimeIncrement` with their units), plain TIFF tags (pixels per cm or inch), OME-Zarr (the
`scale` of every axis with its unit) and, through bioio, vendor files. Units are kept in the
names OME-NGFF uses (UDUNITS-2: `micrometer`, `second`); X, Y and Z share one length unit (a
file with different ones is converted to X's). Values are rounded to 10 significant digits on
reading, so a pixel size stored as a TIFF rational (20/13 px per µm) reads back as 0.65 exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

# Length units: NGFF name -> size in micrometres. Aliases as files write them.
LENGTH_UNITS = {
    "angstrom": 1e-4, "nanometer": 1e-3, "micrometer": 1.0, "millimeter": 1e3, "centimeter": 1e4,
    "meter": 1e6, "inch": 25400.0,
}
TIME_UNITS = {"millisecond": 1e-3, "second": 1.0, "minute": 60.0, "hour": 3600.0, "microsecond": 1e-6,
              "nanosecond": 1e-9, "day": 86400.0}
_ALIASES = {
    "µm": "micrometer", "\u03bcm": "micrometer", "um": "micrometer", "micron": "micrometer", "microns": "micrometer",
    "\\u00b5m": "micrometer", "nm": "nanometer", "mm": "millimeter", "cm": "centimeter", "m": "meter",
    "å": "angstrom", "a": "angstrom", "in": "inch",
    "s": "second", "sec": "second", "seconds": "second", "ms": "millisecond", "msec": "millisecond",
    "min": "minute", "minutes": "minute", "h": "hour", "hr": "hour", "hours": "hour", "µs": "microsecond",
    "us": "microsecond", "ns": "nanosecond",
}
# How the formats spell a unit: ImageJ's `unit=`, OME-XML's PhysicalSizeXUnit / TimeIncrementUnit.
IMAGEJ_UNITS = {"micrometer": "micron", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m",
                "angstrom": "Å", "inch": "inch"}
OME_UNITS = {"micrometer": "µm", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m",
             "angstrom": "Å", "inch": "in", "second": "s", "millisecond": "ms", "minute": "min", "hour": "h",
             "microsecond": "µs", "nanosecond": "ns", "day": "d"}
DIGITS = 10


def unit_name(text) -> str | None:
    """The NGFF name of a unit as a file spells it ('µm', 'micron', 'sec'); None if unknown or 'pixel'."""
    if text is None:
        return None
    key = str(text).strip()
    lower = key.lower()
    if lower in LENGTH_UNITS or lower in TIME_UNITS:
        return lower
    return _ALIASES.get(lower) or _ALIASES.get(key)


def rounded(value) -> float | None:
    """`value` to 10 significant digits; None for missing, zero, negative or non-finite values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return float(f"{value:.{DIGITS}g}")


@dataclass(frozen=True)
class Calibration:
    """Size of one pixel step: `x`, `y`, `z` in `unit` (a length, or None: sizes in no unit), `t`
    (time between frames) in `time_unit`. A size of None is not known."""

    x: float | None = None
    y: float | None = None
    z: float | None = None
    t: float | None = None
    unit: str | None = None
    time_unit: str | None = None

    def __post_init__(self) -> None:
        for axis in "xyzt":
            object.__setattr__(self, axis, rounded(getattr(self, axis)))
        object.__setattr__(self, "unit", unit_name(self.unit) if self.unit else None)
        object.__setattr__(self, "time_unit", unit_name(self.time_unit) if self.time_unit else None)

    @property
    def empty(self) -> bool:
        return all(getattr(self, a) is None for a in "xyzt")

    def size(self, axis: str) -> float | None:
        """Pixel size along axis 'X', 'Y', 'Z' or 'T' (None for channels and unknown sizes)."""
        return getattr(self, axis.lower(), None) if axis.upper() in "XYZT" else None

    def axis_unit(self, axis: str) -> str | None:
        axis = axis.upper()
        if axis in "XYZ" and self.size(axis) is not None:
            return self.unit
        return self.time_unit if axis == "T" and self.t is not None else None

    def scaled(self, factor: float) -> "Calibration":
        """The calibration of an image `factor` times larger in Y and X (super-resolution output)."""
        if factor == 1:
            return self
        return replace(self, x=self.x / factor if self.x else None, y=self.y / factor if self.y else None)

    def in_unit(self, unit: str) -> "Calibration":
        """X, Y, Z converted to the length `unit` (a calibration without a unit is left as it is)."""
        unit = unit_name(unit)
        if self.unit is None or unit is None or unit == self.unit or unit not in LENGTH_UNITS:
            return self
        factor = LENGTH_UNITS[self.unit] / LENGTH_UNITS[unit]
        return replace(self, unit=unit, **{a: getattr(self, a) * factor for a in "xyz" if getattr(self, a)})

    def microns(self, axis: str) -> float | None:
        """Pixel size along `axis` in micrometres; None without a length unit."""
        size = self.size(axis)
        if size is None or self.unit not in LENGTH_UNITS:
            return None
        return size * LENGTH_UNITS[self.unit]

    def describe(self) -> str:
        parts = [f"{a} {getattr(self, a):g}" for a in "xyz" if getattr(self, a) is not None]
        text = ", ".join(parts) + (f" {self.unit}" if parts and self.unit else "")
        if self.t is not None:
            text += (", " if text else "") + f"t {self.t:g} {self.time_unit or ''}".rstrip()
        return text or "none"

    # --- TIFF tags -----------------------------------------------------------------------
    def tiff_resolution(self) -> dict:
        """XResolution/YResolution in pixels per cm (what Fiji, napari and Bio-Formats read as a
        pixel size in µm); pixels per unit with unit none when the length unit is unknown."""
        if not self.x or not self.y:
            return {}
        if self.unit in LENGTH_UNITS:
            return {"resolution": (1e4 / self.microns("X"), 1e4 / self.microns("Y")), "resolutionunit": 3}
        return {"resolution": (1 / self.x, 1 / self.y), "resolutionunit": 1}


@dataclass
class Image:
    """Pixels plus the axis string ('YX', 'YXC', 'CYX', 'ZYX', ...) they were stored with, and
    their calibration (None: the file said nothing)."""

    data: np.ndarray  # or, read lazily, `io.lazy.LazyPixels`
    axes: str
    path: Path | None = None
    calibration: Calibration | None = None

    @property
    def resolution(self) -> Calibration | None:
        """The calibration (the name `Predictor` and the writers use for it)."""
        return self.calibration


def calibration_or_none(calibration: Calibration | None) -> Calibration | None:
    return None if calibration is None or calibration.empty else calibration


# --- reading TIFF --------------------------------------------------------------------------
def read_tiff_calibration(tif, series: int = 0) -> Calibration | None:
    """The calibration of series `series` of an open `tifffile.TiffFile`: OME-XML first, then
    ImageJ's description, then the plain resolution tags."""
    if tif.is_ome and tif.ome_metadata:
        found = _ome_calibration(tif.ome_metadata, series)
        if found is not None:
            return found
    return _tag_calibration(tif)


def _tag_calibration(tif) -> Calibration | None:
    tags = tif.pages.first.tags
    ij = tif.imagej_metadata or {}
    x = y = None
    unit = None
    if "XResolution" in tags and "YResolution" in tags:
        px, py = (_ratio(tags[name].value) for name in ("XResolution", "YResolution"))
        code = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
        if px and py:
            x, y = 1 / px, 1 / py
            if code == 1:
                unit = unit_name(ij.get("unit"))
                if unit is None and px == 1 and py == 1:
                    x = y = None  # the 1 px default says nothing
            else:
                unit = "centimeter" if code == 3 else "inch"
    z = ij.get("spacing")
    if ij.get("zunit") and unit and unit_name(ij.get("zunit")) not in (None, unit):
        z = Calibration(z=z, unit=ij["zunit"]).in_unit(unit).z
    t = ij.get("finterval")
    calibration = Calibration(x=x, y=y, z=z, t=t, unit=unit, time_unit=unit_name(ij.get("tunit")) or ("second" if t else None))
    if calibration.unit in ("centimeter", "inch"):  # pixels per cm or inch: sizes in µm, as Fiji shows them
        calibration = calibration.in_unit("micrometer")
    return calibration_or_none(calibration)


def _ome_calibration(xml: str, series: int) -> Calibration | None:
    """PhysicalSizeX/Y/Z (default unit µm) and TimeIncrement (default s) of Image `series`."""
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None
    images = [e for e in root if e.tag.endswith("}Image") or e.tag == "Image"]
    if series >= len(images):
        return None
    pixels = next((e for e in images[series] if e.tag.endswith("Pixels")), None)
    if pixels is None:
        return None
    return ome_pixels_calibration(pixels.attrib)


def ome_pixels_calibration(attrib: dict) -> Calibration | None:
    """A calibration from the attributes of an OME `Pixels` element (sizes in their units)."""
    sizes, units = {}, {}
    for axis in "XYZ":
        sizes[axis] = rounded(attrib.get(f"PhysicalSize{axis}"))
        units[axis] = unit_name(attrib.get(f"PhysicalSize{axis}Unit", "µm"))
    unit = units["X"] or units["Y"] or "micrometer"
    converted = {}
    for axis in "XYZ":
        size = sizes[axis]
        if size is not None and units[axis] and units[axis] != unit and units[axis] in LENGTH_UNITS:
            size = size * LENGTH_UNITS[units[axis]] / LENGTH_UNITS[unit]
        converted[axis.lower()] = size
    t = rounded(attrib.get("TimeIncrement"))
    calibration = Calibration(**converted, t=t, unit=unit if any(converted.values()) else None,
                              time_unit=unit_name(attrib.get("TimeIncrementUnit", "s")) if t else None)
    return calibration_or_none(calibration)


def _ratio(value) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else 0.0
    return float(value)


# --- writing TIFF --------------------------------------------------------------------------
def imagej_metadata(calibration: Calibration | None) -> tuple[dict, dict]:
    """(tifffile arguments, ImageJ description entries) for an ImageJ hyperstack: pixels per unit
    with `unit=`, `spacing=` for Z and `finterval=` for T (ImageJ's time unit is seconds unless
    `tunit=` says otherwise)."""
    if calibration is None:
        return {}, {}
    arguments, entries = {}, {}
    if calibration.x and calibration.y:
        arguments["resolution"] = (1 / calibration.x, 1 / calibration.y)
        arguments["resolutionunit"] = 1  # ImageJ keeps the unit in its description
    if calibration.unit and (calibration.x or calibration.z):
        entries["unit"] = IMAGEJ_UNITS.get(calibration.unit, calibration.unit)
    if calibration.z:
        entries["spacing"] = calibration.z
    if calibration.t:
        entries["finterval"] = calibration.t
        if calibration.time_unit and calibration.time_unit != "second":
            entries["tunit"] = OME_UNITS.get(calibration.time_unit, calibration.time_unit)
    return arguments, entries


def ome_metadata(calibration: Calibration | None) -> dict:
    """OME-XML Pixels attributes for tifffile's OME writer (`metadata=`)."""
    if calibration is None:
        return {}
    entries = {}
    for axis in "XYZ":
        size = calibration.size(axis)
        if size is not None:
            entries[f"PhysicalSize{axis}"] = size
            if calibration.unit:
                entries[f"PhysicalSize{axis}Unit"] = OME_UNITS.get(calibration.unit, calibration.unit)
    if calibration.t is not None:
        entries["TimeIncrement"] = calibration.t
        entries["TimeIncrementUnit"] = OME_UNITS.get(calibration.time_unit or "second", "s")
    return entries
