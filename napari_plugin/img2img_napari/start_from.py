"""The Train widget's "start from" choice: from scratch, or from a model's weights (fine-tuning,
the config's `init_from`).

Fine-tuning a model that already knows nuclei needs far fewer annotated images and steps than
training from scratch, and a model trained a minute ago can be refined with more annotations.
The box offers the shared catalog (the built-in model, files opened in any widget, models
trained in this session) and Open… for any other checkpoint.
"""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QFileDialog

from img2img_napari.catalog import CATALOG, ModelEntry

SCRATCH = "none (from scratch)"
OPEN = "Open…"


class StartFromBox(QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self.setToolTip("Train from scratch, or start from a model's weights with a fresh optimizer (fine-tuning); "
                        "the network's shape, channels and normalization then come from that model")
        self.addItem(SCRATCH, None)
        self.addItem(OPEN, OPEN)
        for entry in CATALOG.entries:
            self._insert(entry)
        self._previous = 0  # the choice to go back to when Open… is cancelled
        CATALOG.changed.connect(self._on_catalog_changed)
        self.currentIndexChanged.connect(self._remember)
        self.activated.connect(self._on_activated)  # choices made by the user, not by code

    @property
    def init_from(self) -> str | None:
        """A checkpoint path or builtin:NAME, or None for training from scratch."""
        source = self.currentData()
        return None if source in (None, OPEN) else source

    def choose(self, source: str | None) -> None:
        """Select a source the box offers (None: from scratch)."""
        self.setCurrentIndex(max(0, self.findData(source)))

    def _insert(self, entry: ModelEntry) -> None:
        self.insertItem(self.count() - 1, entry.label, entry.source)  # Open… stays last

    def _on_catalog_changed(self, entry: ModelEntry) -> None:
        try:
            self._insert(entry)  # offered, not selected: the next run need not start from it
        except RuntimeError:  # this widget was closed and Qt deleted it: stop listening
            CATALOG.changed.disconnect(self._on_catalog_changed)

    def _remember(self, index: int) -> None:
        if self.itemData(index) != OPEN:
            self._previous = index

    def _on_activated(self, index: int) -> None:
        if self.itemData(index) != OPEN:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Start training from a model", "", "img2img checkpoints (*.ckpt)")
        if path:
            self.choose(CATALOG.add(path).source)  # a damaged file is reported by the Train widget
        else:
            self.setCurrentIndex(self._previous)
