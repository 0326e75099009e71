"""Steps the GUI tests share: run a model on a layer, start a tiny training."""

from pathlib import Path

from img2img_napari.run_widget import RunWidget
from img2img_napari.train_widget import TrainWidget

WAIT_MS = 180_000


def run(widget: RunWidget, qtbot, layer: str):
    widget.layer_box.setCurrentText(layer)
    widget.run()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    return widget.last_result


def start_small_training(trainer: TrainWidget, layer: str, output: Path, steps: int = 2000) -> None:
    """A tiny run: by default long (2000 steps) for tests that stop it after a few steps; with a
    few steps it validates after each one (every steps // 5) and ends by itself."""
    trainer.input_box.setCurrentText(layer)
    trainer.patch_box.setValue(64)
    trainer.steps_box.setValue(steps)
    trainer.batch_box.setValue(2)
    trainer.channels_box.setValue(8)
    trainer.output_edit.setText(str(output))
    trainer.start()


def train_until_done(trainer: TrainWidget, qtbot, layer: str, output: Path, steps: int) -> Path:
    """Train for `steps` steps to the end; returns the checkpoint."""
    start_small_training(trainer, layer, output, steps)
    qtbot.waitUntil(lambda: not trainer.busy, timeout=WAIT_MS)
    return trainer.checkpoint
