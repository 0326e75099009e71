"""PNG and JPEG in and out through OpenCV (8/16-bit gray or colour; no axes, no calibration).

Palette PNGs are read as their indices by `io.images.read_labels` (Pillow), since OpenCV would
expand them to colours.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from img2img.errors import UserError
from img2img.io.atomic import atomic_path
from img2img.io.metadata import Calibration, Image
from img2img.io.names import OPENCV_SUFFIXES

NAME = "png/jpeg"
SUFFIXES = tuple(sorted(OPENCV_SUFFIXES))
FOLDER = False


def read(path: Path, lazy: bool = False, series: int | str | None = None) -> Image:
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise UserError(f"{path}: cannot read image; is the file complete and really a {path.suffix} file?")
    if data.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if data.shape[2] == 4 else cv2.COLOR_BGR2RGB
        return Image(data=cv2.cvtColor(data, code), axes="YXC", path=path)
    return Image(data=data, axes="YX", path=path)


def write(path: Path, data: np.ndarray, axes: str | None, calibration: Calibration | None = None,
          kind: str = "image") -> None:
    """Write atomically (a temporary name, renamed into place)."""
    if data.dtype not in (np.uint8, np.uint16):
        raise UserError(f"{path}: PNG/JPG hold 8/16-bit pixels, not {data.dtype}; write a .tif instead")
    if data.ndim == 3 and data.shape[2] in (3, 4):
        data = cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), data):
            raise UserError(f"{path}: OpenCV could not write this image (shape {data.shape}, {data.dtype})")
