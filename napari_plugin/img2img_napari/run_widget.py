"""The Run widget: pick a model and a layer, press Run, get a new layer on top of the input.

Prediction runs in a worker thread (napari's `create_worker`), tile by tile through
`img2img.Predictor`, so the viewer stays responsive, the progress bar moves per tile and
Cancel stops between tiles.
"""

from __future__ import annotations

from pathlib import Path

import napari
import numpy as np
import torch
from qtpy.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from img2img.builtin import resolve_model_path
from img2img.errors import UserError
from img2img.inference.predictor import Predictor
from img2img.models.packages import is_foreign_package
from img2img.kinds import get_kind
from img2img_napari.background import Progress, notify_error
from img2img_napari.catalog import CATALOG, ModelEntry
from img2img_napari.diameter_box import DiameterBox, used_diameter_text
from img2img_napari.job_widget import JobWidget
from img2img_napari.layer_data import LayerInput, hole_mask, image_result_layers, layer_axes, layer_input, placement
from img2img_napari.model_facts import FOREIGN, model_facts

WHOLE_STACK, CURRENT_PLANE = "whole stack", "current plane"
# New Labels results show outlines (contour 1: a 2 px line) rather than filled regions: the
# objects' own pixels stay visible and the line between touching objects shows whether they were
# split. Layer controls > contour 0 fills them; a refreshed layer keeps the user's choice.
RESULT_CONTOUR = 1


class RunWidget(JobWidget):
    cancelled_text = "cancelled; no layer was added"

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self._predictors: dict[tuple, Predictor] = {}
        self.last_result: list[napari.layers.Layer] = []  # layers made by the latest run (tests read it)
        self.last_predictor: Predictor | None = None  # the Predictor of the latest run (tests read it)

        self.model_box = QComboBox()
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Add a .ckpt written by 'img2img train' or the Train widget")
        self.layer_box = QComboBox()
        self.scope_box = QComboBox()
        self.scope_box.addItems([WHOLE_STACK, CURRENT_PLANE])
        self.tile_box = QSpinBox()
        self.tile_box.setRange(0, 8192)
        self.tile_box.setSingleStep(64)
        self.tile_box.setSpecialValueText("auto")
        self.diameter_box = DiameterBox()
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())])
        self.direction_box = QComboBox()
        self.direction_box.addItems(["AtoB", "BtoA"])
        self.direction_box.setToolTip("CycleGAN models translate both ways")
        self.mask_box = QComboBox()
        self.mask_box.setToolTip("Inpainting models fill where this Labels or Shapes layer is nonzero")
        self.channels_edit = QLineEdit()
        self.channels_edit.setPlaceholderText("auto (e.g. 0,2 picks channels 0 and 2)")
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self._lay_out()

        for entry in CATALOG.entries:
            self._add_entry(entry)
        CATALOG.changed.connect(self._on_catalog_changed)
        self.model_box.currentIndexChanged.connect(self._on_model_changed)
        self.open_button.clicked.connect(self._choose_file)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.layer_box.currentIndexChanged.connect(self._update_scope)
        layers = self.viewer.layers
        for event in (layers.events.inserted, layers.events.removed, layers.events.moved):
            event.connect(self._refresh_layers)
        layers.selection.events.active.connect(self._follow_selection)
        self._refresh_layers()
        self._on_model_changed()

    def _lay_out(self) -> None:
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_box, 1)
        model_row.addWidget(self.open_button)
        form = QFormLayout()
        form.addRow("model", model_row)
        form.addRow("input layer", self.layer_box)
        form.addRow("process", self.scope_box)
        form.addRow("object diameter (px)", self.diameter_box)
        form.addRow("tile size", self.tile_box)
        form.addRow("device", self.device_box)
        form.addRow("direction", self.direction_box)
        form.addRow("mask layer", self.mask_box)
        form.addRow("channels", self.channels_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addLayout(buttons)
        outer.addWidget(self.progress_bar)
        outer.addWidget(self.status)
        outer.addStretch(1)

    # --- choices -------------------------------------------------------------------------
    def _add_entry(self, entry: ModelEntry) -> None:
        self.model_box.addItem(entry.label, entry)

    def _on_catalog_changed(self, entry: ModelEntry) -> None:
        try:
            self._add_entry(entry)
        except RuntimeError:  # this widget was closed and Qt deleted it: stop listening
            CATALOG.changed.disconnect(self._on_catalog_changed)
            return
        self.model_box.setCurrentIndex(self.model_box.count() - 1)

    def add_model(self, path: str | Path) -> None:
        """Offer a checkpoint file and select it."""
        entry = CATALOG.add(path)
        self.model_box.setCurrentIndex(self.model_box.findText(entry.label))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an img2img model", "", "img2img checkpoints and BioImage.IO packages (*.ckpt *.zip)")
        if path:
            self.add_model(path)

    @property
    def entry(self) -> ModelEntry | None:
        return self.model_box.currentData()

    def _on_model_changed(self) -> None:
        """Enable the choices the model takes (direction: CycleGAN; mask: inpainting; object
        diameter: segmenters trained at an object size); a damaged file is reported at once."""
        self.direction_box.setEnabled(False)
        self.mask_box.setEnabled(False)
        self.diameter_box.follow_model(None)
        self.model_box.setToolTip("")
        if self.entry is None:
            return
        try:
            facts = model_facts(self.entry.source)
        except UserError as exc:
            notify_error(exc)
            self.status.setText(str(exc))
            return
        kind = None if facts.name == FOREIGN else get_kind(facts.name)
        self.direction_box.setEnabled(bool(kind and kind.directions))
        if kind and kind.directions:
            self.direction_box.setCurrentText(facts.direction)
        self.mask_box.setEnabled(bool(kind and kind.takes_mask))
        self.diameter_box.follow_model(facts.object_diameter)
        self.model_box.setToolTip(facts.card)  # the whole model card on hover
        self.status.setText(facts.summary)

    def _image_layers(self) -> list[napari.layers.Image]:
        return [layer for layer in self.viewer.layers if isinstance(layer, napari.layers.Image)]

    def _refresh_layers(self, event=None) -> None:
        masks = [layer.name for layer in self.viewer.layers
                 if isinstance(layer, (napari.layers.Labels, napari.layers.Shapes))]
        for box, names in ((self.layer_box, [layer.name for layer in self._image_layers()]), (self.mask_box, masks)):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            index = box.findText(current)
            box.setCurrentIndex(index if index >= 0 else 0)
            box.blockSignals(False)
        self._update_scope()

    def _follow_selection(self, event=None) -> None:
        active = self.viewer.layers.selection.active
        if isinstance(active, napari.layers.Image):
            self.layer_box.setCurrentIndex(self.layer_box.findText(active.name))

    @property
    def layer(self) -> napari.layers.Image | None:
        name = self.layer_box.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def _update_scope(self, index=None) -> None:
        layer = self.layer
        stacked = layer is not None and len(_safe_axes(layer).rstrip("YXC")) > 0
        self.scope_box.setEnabled(stacked)

    # --- running -------------------------------------------------------------------------
    def run(self) -> None:
        """Start predicting in a worker thread; results arrive as new layers."""
        if self.busy:
            return
        layer, entry = self.layer, self.entry
        try:
            if layer is None:
                raise UserError("no image layer to run on; open an image first (File > Open, or File > Open Sample)")
            if entry is None:
                raise UserError("no model chosen; pick one or press Open… to add a .ckpt file")
            step = self.viewer.dims.current_step if self.scope_box.currentText() == CURRENT_PLANE else None
            given = layer_input(layer, step)
            options = self._options()
            if self.mask_box.isEnabled():
                mask_layer = self.viewer.layers[self.mask_box.currentText()] if self.mask_box.currentText() else None
                if mask_layer is None:
                    raise UserError("inpainting needs a mask: add a Labels or Shapes layer over the holes to fill")
                shape = layer.data.shape[:-1] if layer.rgb else layer.data.shape
                options["mask"] = hole_mask(mask_layer, given, shape)
        except (UserError, ValueError) as exc:
            notify_error(UserError(str(exc)))
            return
        progress = self.new_progress()
        progress.total.connect(self.progress_bar.setMaximum)
        self.start_job(self._predict, entry, given, options,
                       on_result=lambda result: self._show(result, layer, entry, given))

    def _options(self) -> dict:
        text = self.channels_edit.text().strip()
        try:
            channels = [int(c) for c in text.replace(" ", "").split(",")] if text else None
        except ValueError:
            raise UserError(f"channels {text!r}: give channel numbers separated by commas, e.g. 0,2") from None
        return {
            "device": self.device_box.currentText(),
            "tile": self.tile_box.value() or None,
            "direction": self.direction_box.currentText() if self.direction_box.isEnabled() else None,
            "channels": channels,
            "diameter": self.diameter_box.diameter,
        }

    def _predictor(self, entry: ModelEntry, options: dict) -> Predictor:
        key = (entry.source, options["device"], options["direction"], tuple(options["channels"] or ()))
        if (key, options["diameter"]) not in self._predictors:
            # Trying diameters one after another keeps one loaded copy of the model, not one per value.
            self._predictors = {k: p for k, p in self._predictors.items() if k[0] != key}
            if is_foreign_package(entry.source):  # a BioImage.IO package from elsewhere: its own processing
                from img2img.inference.bmz_predictor import BmzPredictor

                self._predictors[key, options["diameter"]] = BmzPredictor(
                    entry.source, device=options["device"], channels=options["channels"])
            else:
                self._predictors[key, options["diameter"]] = Predictor.from_checkpoint(
                    resolve_model_path(entry.source), device=options["device"], direction=options["direction"],
                    channels=options["channels"], diameter=options["diameter"],
                )
        return self._predictors[key, options["diameter"]]

    def _predict(self, entry: ModelEntry, given: LayerInput, options: dict, progress: Progress):
        """Worker thread: load (once) and run the model; returns (predictor, result array)."""
        progress.message.emit(f"loading {entry.label}")
        predictor = self._predictor(entry, options)
        predictor.object_scale.last_diameter = None  # so the status reports this run's measurement only
        tile = options["tile"]

        def on_tiles(n: int) -> None:
            progress.check()
            progress.advanced.emit(n)

        progress.total.emit(predictor.count_tiles(given.data.shape, given.axes, tile))
        progress.message.emit(f"running {entry.label} on {predictor.device}")
        predictor.on_tiles = on_tiles
        try:
            result = _predict_with_mask(predictor, given, tile, options.get("mask"))
        finally:
            predictor.on_tiles = None
        return predictor, result

    def _show(self, outcome, layer, entry: ModelEntry, given: LayerInput) -> None:
        predictor, result = outcome
        name = f"{layer.name}_{entry.short_name}"
        place = placement(layer, given, predictor.scale)
        out_axes = predictor.output_axes(given.axes)
        if predictor.task == "segmentation":
            tuples = [(result, {"name": name, **place}, "labels")]
        else:
            tuples = image_result_layers(result, out_axes, name, place)
        self.last_result = [self._add_or_replace(*t) for t in tuples]
        self.last_predictor = predictor
        objects = f", {int(result.max())} objects" if predictor.task == "segmentation" else ""
        size = used_diameter_text(predictor.object_scale, int(np.prod(given.data.shape[:len(given.start)])))
        self.status.setText(f"done: layer '{name}'{objects}" + (f"; {size}" if size else ""))

    def _add_or_replace(self, data: np.ndarray, kwargs: dict, kind: str) -> napari.layers.Layer:
        """Running again on the same layer refreshes its result instead of stacking copies."""
        existing = self.viewer.layers[kwargs["name"]] if kwargs["name"] in self.viewer.layers else None
        if existing is not None and existing._type_string == kind and existing.data.shape == data.shape:
            existing.data = data
            existing.scale, existing.translate = kwargs["scale"], kwargs["translate"]
            return existing
        if kind != "labels":
            return self.viewer.add_image(data, **kwargs)
        labels = self.viewer.add_labels(data, **kwargs)
        labels.contour = RESULT_CONTOUR  # new layers only: a refreshed one keeps the user's choice
        return labels

    def cancel(self) -> None:
        self.request_cancel("cancelling after the current tile…")

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.model_box.setEnabled(not busy)
        self.open_button.setEnabled(not busy)


def _predict_with_mask(predictor: Predictor, given: LayerInput, tile: int | None, mask: np.ndarray | None):
    """One (Y, X) mask serves every plane; a mask per plane means one call per plane."""
    if mask is None:
        return predictor.predict(given.data, given.axes, tile=tile)
    if mask.ndim == 2:
        return predictor.predict(given.data, given.axes, tile=tile, mask=mask)
    leading = mask.shape[:-2]
    planes = [predictor.predict(given.data[i], given.axes[len(leading):], tile=tile, mask=mask[i])
              for i in np.ndindex(leading)]
    return np.stack(planes).reshape(leading + planes[0].shape)


def _safe_axes(layer) -> str:
    try:
        return layer_axes(layer)
    except ValueError:
        return "YX"
