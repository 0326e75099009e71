"""The picture under the Train widget's plot: the newest validation sample grid, either a file
the training wrote (image models) or a grid drawn in memory (segmentation: decoded objects)."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QLabel

MAX_WIDTH = 360


class PreviewLabel(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignCenter)
        self.shown: str | np.ndarray | None = None  # the latest path or (H, W, 3) grid (tests read it)

    def show_file(self, path: str) -> None:
        self._show(QPixmap(path), path)

    def show_array(self, rgb: np.ndarray) -> None:
        """An (H, W, 3) uint8 image."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # copy: Qt must not keep numpy's buffer
        self._show(QPixmap.fromImage(image), rgb)

    def clear_preview(self) -> None:
        self.clear()
        self.shown = None

    def _show(self, pixmap: QPixmap, what) -> None:
        if not pixmap.isNull():
            self.setPixmap(pixmap.scaledToWidth(min(MAX_WIDTH, pixmap.width()), Qt.SmoothTransformation))
            self.shown = what
