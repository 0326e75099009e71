"""The Train widget: train a model from layers (or folders), from scratch or starting from a
trained model, with a live plot of the losses and the validation score, sample previews
(decoded objects for segmentation) and a Stop button that still leaves a usable checkpoint.

Training is `img2img.training.train` in a worker thread, on a config built from the form
(`train_settings.py`); the data and config.yaml are kept in the output folder, so the same run
can be repeated or continued from the command line. The trained model joins the shared
catalog, so every Run widget offers it at once.
"""

from __future__ import annotations

from pathlib import Path

import napari
import numpy as np
from napari.utils.notifications import show_info
from qtpy.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout,
    QWidget,
)

from img2img.errors import UserError
from img2img.training import train
from img2img_napari.background import Progress, notify_error
from img2img_napari.catalog import CATALOG
from img2img_napari.job_widget import JobWidget
from img2img_napari.live_monitor import LiveMonitor
from img2img_napari.loss_plot import LossPlot
from img2img_napari.model_facts import model_facts
from img2img_napari.preview_label import PreviewLabel
from img2img_napari.start_from import StartFromBox
from img2img_napari.train_settings import KINDS, PRESETS, SINGLE_LAYER_KINDS, TrainSettings, training_config
from img2img_napari.training_data import write_paired, write_single, write_unpaired

FROM_FOLDERS = "(folder…)"


class TrainWidget(JobWidget):
    cancelled_text = "stopped before training began; no model was saved"

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.checkpoint: Path | None = None  # the latest trained model (tests read it)

        self.kind_box = QComboBox()
        for key, label in KINDS.items():
            self.kind_box.addItem(label, key)
        self.start_box = StartFromBox()
        self.input_box, self.target_box = QComboBox(), QComboBox()
        self.input_label, self.target_label = QLabel("input layer"), QLabel("target layer")
        self.input_folder, self.target_folder = QLineEdit(), QLineEdit()
        for edit in (self.input_folder, self.target_folder):
            edit.setPlaceholderText("or a folder of images")
        self.patch_box = _spin(16, 1024, 16)
        self.steps_box = _spin(1, 1_000_000, 100)
        self.batch_box = _spin(1, 256, 1)
        self.channels_box = _spin(4, 256, 8)
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("default: a new folder in ~/img2img-models")
        self.browse_button = QPushButton("…")
        self.defaults_button = QPushButton("Restore Defaults")
        self.train_button = QPushButton("Train")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop after the current step and save the model as it is")
        self.plot = LossPlot()
        self.plot.setMinimumHeight(200)  # a dock squeezes widgets without a minimum to nothing
        self.preview = PreviewLabel()
        self._lay_out()

        self.restore_defaults()
        self.kind_box.currentIndexChanged.connect(self._on_kind_changed)
        self.start_box.currentIndexChanged.connect(self._on_start_changed)
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.browse_button.clicked.connect(self._choose_output)
        self.train_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        layers = self.viewer.layers
        for event in (layers.events.inserted, layers.events.removed, layers.events.moved):
            event.connect(self._refresh_layers)
        self._on_kind_changed()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("model", self.kind_box)
        form.addRow("start from", self.start_box)
        form.addRow(self.input_label, self.input_box)
        form.addRow("", self.input_folder)
        form.addRow(self.target_label, self.target_box)
        form.addRow("", self.target_folder)
        form.addRow("patch size", self.patch_box)
        form.addRow("steps", self.steps_box)
        form.addRow("batch size", self.batch_box)
        form.addRow("width (channels)", self.channels_box)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(self.browse_button)
        form.addRow("output folder", output_row)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.stop_button, self.defaults_button):
            buttons.addWidget(button)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addLayout(buttons)
        outer.addWidget(self.progress_bar)
        outer.addWidget(self.plot)
        outer.addWidget(self.preview)
        outer.addWidget(self.status)
        outer.addStretch(1)

    # --- form ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.kind_box.currentData()

    def settings(self) -> TrainSettings:
        return TrainSettings(
            kind=self.kind, patch_size=self.patch_box.value(), steps=self.steps_box.value(),
            batch_size=self.batch_box.value(), base_channels=self.channels_box.value(),
            output_dir=self.output_edit.text().strip(), init_from=self.start_box.init_from,
        )

    def restore_defaults(self) -> None:
        """Back to the defaults of the chosen model kind (layer choices are kept)."""
        defaults = TrainSettings(kind=self.kind or "segmentation")
        self.patch_box.setValue(defaults.patch_size)
        self.steps_box.setValue(defaults.steps)
        self.batch_box.setValue(defaults.batch_size)
        self.channels_box.setValue(defaults.base_channels)
        self.output_edit.setText(defaults.output_dir)
        self.start_box.choose(defaults.init_from)

    def _on_kind_changed(self) -> None:
        unpaired = self.kind in PRESETS and PRESETS[self.kind].data == "unpaired"
        self.input_label.setText("domain A layer" if unpaired else "input layer")
        self.target_label.setText("domain B layer" if unpaired else ("target labels" if self.kind == "segmentation" else "target layer"))
        self.batch_box.setEnabled(not unpaired)  # CycleGAN trains on one image at a time
        single = self.kind in SINGLE_LAYER_KINDS
        if single:
            self.input_label.setText("clean images layer")
        for widget in (self.target_label, self.target_box, self.target_folder):
            widget.setVisible(not single)
        self._refresh_layers()

    def _on_start_changed(self) -> None:
        """A starting model brings its network (so the width is its own) and decides the kind."""
        source = self.start_box.init_from
        self.channels_box.setEnabled(source is None)
        self.channels_box.setToolTip("" if source is None else "the network's width comes from the starting model")
        if source is None:
            return
        try:
            kind = model_facts(source).train_kind
        except UserError as exc:
            notify_error(exc)
            self.start_box.choose(None)
            return
        if self.kind_box.findData(kind) >= 0:
            self.kind_box.setCurrentIndex(self.kind_box.findData(kind))

    def _refresh_layers(self, event=None) -> None:
        images = [layer.name for layer in self.viewer.layers if isinstance(layer, napari.layers.Image)]
        target_type = napari.layers.Labels if self.kind == "segmentation" else napari.layers.Image
        targets = [layer.name for layer in self.viewer.layers if isinstance(layer, target_type)]
        for box, names in ((self.input_box, images), (self.target_box, targets)):
            current = box.currentText()
            box.clear()
            box.addItems(names + [FROM_FOLDERS])
            index = box.findText(current)
            box.setCurrentIndex(index if index >= 0 else 0)
        if self.kind != "segmentation" and self.target_box.currentText() == self.input_box.currentText():
            self.target_box.setCurrentIndex(min(1, self.target_box.count() - 1))

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the trained model")
        if folder:
            self.output_edit.setText(folder)

    # --- training ------------------------------------------------------------------------
    def start(self) -> None:
        """Check the form, then train in a worker thread."""
        if self.busy:
            return
        try:
            settings = self.settings()
            source = self._source(self.input_box, self.input_folder, "input")
            target = None if settings.kind in SINGLE_LAYER_KINDS else \
                self._source(self.target_box, self.target_folder, "target")
        except UserError as exc:
            notify_error(exc)
            return
        output = settings.output_folder(source.name if isinstance(source, Path) else source[2])
        progress = self.new_progress()
        progress.metrics.connect(self.plot.add)
        progress.score.connect(self.plot.add_score)
        progress.preview.connect(self.preview.show_file)
        progress.preview_image.connect(self.preview.show_array)
        self.progress_bar.setRange(0, settings.steps)
        self.plot.clear()
        self.preview.clear_preview()
        self.start_job(self._train, settings, source, target, output, on_result=self._on_trained)

    def _source(self, box: QComboBox, folder: QLineEdit, what: str):
        """A folder path, or (data, rgb, name) of the chosen layer, read in the GUI thread."""
        if box.currentText() == FROM_FOLDERS or folder.text().strip():
            path = Path(folder.text().strip()).expanduser()
            if not folder.text().strip() or not path.is_dir():
                raise UserError(f"{what}: {path if folder.text().strip() else 'no folder given'}; choose a layer or an existing folder")
            return path
        if box.currentText() not in self.viewer.layers:
            raise UserError(f"{what}: no layer chosen; open or draw one first")
        layer = self.viewer.layers[box.currentText()]
        data = np.asarray(layer.data)
        if isinstance(layer, napari.layers.Labels):
            if data.max() > np.iinfo(np.uint16).max or data.min() < 0:
                raise UserError(f"labels layer '{layer.name}': label values must lie in 0..65535")
            data = data.astype(np.uint16)
        return data, bool(getattr(layer, "rgb", False)), layer.name

    def _train(self, settings: TrainSettings, source, target, output: Path, progress: Progress) -> Path:
        """Worker thread: write the layers to disk, build the config, train; returns the checkpoint."""
        progress.message.emit(f"preparing training data in {output}")
        folder = output / "data"
        if settings.kind in SINGLE_LAYER_KINDS:
            data = {"image_dir": str(source)} if isinstance(source, Path) else \
                write_single(source, folder, settings.patch_size)
        elif PRESETS[settings.kind].data == "unpaired":
            data = write_unpaired(source, target, folder, settings.patch_size) if not isinstance(source, Path) \
                else {"a_dir": str(source), "b_dir": str(target)}
        elif isinstance(source, Path):
            data = {"input_dir": str(source), "target_dir": str(target)}
        else:
            if isinstance(target, Path):
                raise UserError("give the input and the target both as layers or both as folders")
            data = write_paired(source, target, folder, settings.patch_size)
        config = training_config(settings, data, output / "run")
        start = f" from {settings.init_from}" if settings.init_from else ""
        progress.message.emit(f"training {settings.kind}{start} for {settings.steps} steps")
        progress.check()
        return train(config, progress=False, callbacks=[LiveMonitor(progress, output / "run" / "samples")])

    def stop(self) -> None:
        self.request_cancel("stopping after this step; the model is saved as it is")

    def _on_trained(self, checkpoint: Path) -> None:
        self.checkpoint = Path(checkpoint)
        stopped = self.cancel_requested
        CATALOG.add(self.checkpoint, label=f"trained: {self.checkpoint.parent.parent.parent.name}")
        self.plot.redraw()
        message = f"{'stopped early; ' if stopped else ''}model saved: {self.checkpoint} (now in the Run widget)"
        self.status.setText(message)
        show_info(message)

    def set_busy(self, busy: bool) -> None:
        self.train_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.defaults_button.setEnabled(not busy)


def _spin(low: int, high: int, step: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    return box
