"""The plugin in a real napari viewer (Qt on Xvfb): samples, the built-in model, stacks,
training from layers with Stop, Cancel, and errors as notifications."""

import numpy as np

from img2img_napari.catalog import CATALOG
from img2img_napari.run_widget import CURRENT_PLANE, RunWidget
from img2img_napari.train_widget import TrainWidget
from tests.napari.widget_helpers import WAIT_MS, run, start_small_training


def test_sample_and_builtin_segmenter_give_labels_that_match_the_nuclei(viewer, qtbot, errors):
    viewer.open_sample("img2img-microscopy", "nuclei")
    widget = RunWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.entry.source == "builtin:nuclei"
    # The model card: whole on hover, in one line below.
    assert "model: pix2pix" in widget.model_box.toolTip() and "input_channels: rgb" in widget.model_box.toolTip()
    assert widget.status.text().startswith("pix2pix segmentation, 3->2 channels")
    (labels,) = run(widget, qtbot, "nuclei")
    assert not errors
    assert labels.name == "nuclei_nuclei" and labels._type_string == "labels"
    assert labels.data.shape == (512, 512) and labels.data.max() > 5
    truth = viewer.layers["nuclei_masks"].data > 0
    found = labels.data > 0
    # The shipped model learned real nuclei (DSB 2018), whose annotators left the faintest nuclei
    # out; it finds the bright and mid ones of this synthetic sample (pixel IoU 0.60, Otsu 0.31).
    assert (found & truth).sum() / (found | truth).sum() > 0.5
    assert widget.progress_bar.value() == widget.progress_bar.maximum() > 0
    # Running again refreshes the same layer rather than stacking copies.
    run(widget, qtbot, "nuclei")
    assert [layer.name for layer in viewer.layers].count("nuclei_nuclei") == 1


def test_stack_whole_and_current_plane(viewer, qtbot, errors):
    viewer.open_sample("img2img-microscopy", "nuclei_stack")
    stack = viewer.layers["nuclei_stack"]
    stack.scale = (3.0, 0.5, 0.5)
    widget = RunWidget(viewer)
    (whole,) = run(widget, qtbot, "nuclei_stack")
    assert whole.data.shape == (5, 256, 256) and all(plane.max() > 0 for plane in whole.data)
    assert tuple(whole.scale) == (3.0, 0.5, 0.5)
    viewer.dims.set_current_step(0, 2)
    widget.scope_box.setCurrentText(CURRENT_PLANE)
    (plane,) = run(widget, qtbot, "nuclei_stack")
    assert plane.data.shape == (1, 256, 256) and tuple(plane.translate)[0] == 6.0
    assert np.array_equal(plane.data[0] > 0, whole.data[2] > 0)
    assert not errors


def test_cancel_stops_between_tiles_and_adds_nothing(viewer, qtbot, errors):
    viewer.add_image(np.random.default_rng(0).integers(0, 4000, (1536, 1536)).astype(np.uint16), name="big")
    widget = RunWidget(viewer)
    widget.tile_box.setValue(128)
    widget.layer_box.setCurrentText("big")
    widget.run()
    widget.cancel()
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    assert "cancelled" in widget.status.text()
    assert "big_nuclei" not in viewer.layers and not errors


def test_corrupt_checkpoint_is_a_notification_not_a_crash(viewer, qtbot, errors, tmp_path):
    bad = tmp_path / "broken.ckpt"
    bad.write_bytes(b"not a checkpoint at all")
    viewer.add_image(np.zeros((64, 64), np.uint16), name="img")
    widget = RunWidget(viewer)
    widget.add_model(bad)
    assert errors and "broken.ckpt" in errors[-1] and "cannot load checkpoint" in errors[-1]
    assert "broken.ckpt" in widget.status.text()
    shown = len(errors)
    run(widget, qtbot, "img")
    assert len(errors) == shown + 1 and "broken.ckpt" in errors[-1]
    assert all("broken.ckpt" in message for message in errors)
    assert [layer.name for layer in viewer.layers] == ["img"]


def test_train_from_layers_stop_and_run_the_new_model(viewer, qtbot, errors, tmp_path):
    viewer.open_sample("img2img-microscopy", "nuclei")
    runner = RunWidget(viewer)
    trainer = TrainWidget(viewer)
    viewer.window.add_dock_widget(trainer)
    trainer.target_box.setCurrentText("nuclei_masks")
    start_small_training(trainer, "nuclei", tmp_path / "model")
    qtbot.waitUntil(lambda: len(trainer.plot.history.get("loss_l1", ([], []))[0]) >= 3, timeout=WAIT_MS)
    trainer.stop()
    qtbot.waitUntil(lambda: not trainer.busy, timeout=WAIT_MS)
    assert not errors, errors
    assert trainer.checkpoint is not None and trainer.checkpoint.is_file()
    assert "stopped early" in trainer.status.text()
    steps = trainer.plot.history["loss_l1"][0]
    assert steps[-1] < 2000
    # The new model is offered, and selected, in the Run widget at once.
    assert runner.entry.source == str(trainer.checkpoint.resolve())
    assert "baseline:" in runner.model_box.toolTip() and " steps" in runner.status.text()
    (labels,) = run(runner, qtbot, "nuclei")
    assert labels.data.shape == (512, 512) and not errors
    assert (tmp_path / "model" / "run" / "config.yaml").is_file()


def test_restore_defaults_and_cyclegan_choices(viewer):
    viewer.open_sample("img2img-microscopy", "larvae")
    widget = TrainWidget(viewer)
    widget.steps_box.setValue(7)
    widget.patch_box.setValue(32)
    widget.restore_defaults()
    assert (widget.steps_box.value(), widget.patch_box.value()) == (500, 128)
    widget.kind_box.setCurrentIndex(widget.kind_box.findData("cyclegan"))
    assert widget.input_label.text() == "domain A layer" and not widget.batch_box.isEnabled()
    assert widget.input_box.currentText() != widget.target_box.currentText()


def test_train_superres_from_one_layer_then_upscale_it(viewer, qtbot, errors, tmp_path):
    viewer.open_sample("img2img-microscopy", "nuclei")
    viewer.layers["nuclei"].scale = (0.4, 0.4)
    runner = RunWidget(viewer)
    trainer = TrainWidget(viewer)
    trainer.kind_box.setCurrentIndex(trainer.kind_box.findData("superres"))
    assert not trainer.target_box.isVisibleTo(trainer)
    start_small_training(trainer, "nuclei", tmp_path / "sr")
    qtbot.waitUntil(lambda: len(next(iter(trainer.plot.history.values()), ([], []))[0]) >= 2, timeout=WAIT_MS)
    trainer.stop()
    qtbot.waitUntil(lambda: not trainer.busy, timeout=WAIT_MS)
    assert not errors, errors
    (upscaled,) = run(runner, qtbot, "nuclei")
    assert upscaled._type_string == "image" and upscaled.data.shape == (1024, 1024)
    assert upscaled.data.dtype == viewer.layers["nuclei"].data.dtype
    assert tuple(upscaled.scale) == (0.2, 0.2)


def test_a_bioimageio_package_from_elsewhere_runs_in_the_run_widget(viewer, qtbot, errors, tmp_path):
    import pytest

    pytest.importorskip("bioimageio.core", reason="the [export] extra is not installed")
    from tests.bmz_foreign import foreign_forward, write_foreign_package

    package = write_foreign_package(tmp_path / "smooth")
    image = (np.random.default_rng(4).random((64, 80)) * 1000).astype(np.uint16)
    viewer.add_image(image, name="cells")
    widget = RunWidget(viewer)
    widget.add_model(package)
    assert "own pre- and post-processing" in widget.status.text() and not widget.mask_box.isEnabled()
    (result,) = run(widget, qtbot, "cells")
    assert not errors, errors
    assert result.name == "cells_smooth" and np.abs(result.data - foreign_forward(image)).max() < 1e-5
    # A package of ours runs as the checkpoint inside it, with its model card.
    from img2img.export import export_model
    from tests.model_builders import save_checkpoint, untrained

    ours = export_model(save_checkpoint(untrained(), tmp_path / "seg.ckpt"), tmp_path / "seg.zip").path
    widget.add_model(ours)
    assert "model: pix2pix" in widget.model_box.toolTip()
    (labels,) = run(widget, qtbot, "cells")
    assert not errors, errors
    assert labels._type_string == "labels" and labels.data.shape == image.shape


def test_a_cyclegan_package_selects_the_direction_it_was_exported_in(viewer, tmp_path):
    import pytest

    pytest.importorskip("bioimageio.core", reason="the [export] extra is not installed")
    from img2img.export import export_model
    from tests.model_builders import save_checkpoint, untrained_kind

    checkpoint = save_checkpoint(untrained_kind("cyclegan"), tmp_path / "cycle.ckpt")
    widget = RunWidget(viewer)
    widget.add_model(export_model(checkpoint, tmp_path / "b_to_a.zip", direction="BtoA").path)
    assert widget.direction_box.isEnabled() and widget.direction_box.currentText() == "BtoA"
    widget.add_model(checkpoint)
    assert widget.direction_box.currentText() == "AtoB"
