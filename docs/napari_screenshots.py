"""Take the screenshots in docs/napari.md: the Run widget after segmenting the nuclei sample
with the built-in model, and the Train widget during a short training from layers.

    xvfb-run -a .venv/bin/python docs/napari_screenshots.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from img2img_napari.run_widget import RunWidget
from img2img_napari.train_widget import TrainWidget

IMAGES = Path(__file__).resolve().parent / "images"


def wait(condition, timeout: float = 900) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the widget did not finish in time")
        QApplication.processEvents()
        time.sleep(0.05)


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1400, 950)
    viewer.open_sample("img2img-microscopy", "nuclei")
    viewer.layers["nuclei_masks"].visible = False
    runner = RunWidget(viewer)
    run_dock = viewer.window.add_dock_widget(runner, name="img2img: Run model")
    runner.layer_box.setCurrentText("nuclei")
    runner.run()
    wait(lambda: not runner.busy)
    viewer.layers["nuclei_nuclei"].contour = 2
    QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "napari_run.png"), canvas_only=False)

    viewer.window.remove_dock_widget(run_dock)
    trainer = TrainWidget(viewer)
    viewer.window.add_dock_widget(trainer, name="img2img: Train model")
    trainer.input_box.setCurrentText("nuclei")
    trainer.target_box.setCurrentText("nuclei_masks")
    trainer.patch_box.setValue(64)
    trainer.steps_box.setValue(60)
    trainer.channels_box.setValue(16)
    trainer.output_edit.setText(tempfile.mkdtemp(prefix="img2img_screenshot_"))
    trainer.start()
    wait(lambda: not trainer.busy)
    trainer.plot.redraw()
    QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "napari_train.png"), canvas_only=False)
    viewer.close()
    print(f"wrote {IMAGES / 'napari_run.png'} and {IMAGES / 'napari_train.png'}")


if __name__ == "__main__":
    main()
