"""The Train widget shows what decides the kept model (validation F1 after each validation) and
the objects a segmenter finds; a model can start from the built-in one or from one trained in
this session, and the result runs in the Run widget."""

import numpy as np
import pytest
import torch
import yaml

from img2img.builtin import builtin_model_path
from img2img_napari.catalog import CATALOG
from img2img_napari.run_widget import RunWidget
from img2img_napari.train_widget import TrainWidget
from tests.model_builders import save_checkpoint, untrained
from tests.napari.widget_helpers import run, train_until_done

pytestmark = pytest.mark.gui
STEPS = 3  # validation after every step (every steps // 5, at least 1)


def saved_config(checkpoint) -> dict:
    return yaml.safe_load((checkpoint.parent.parent / "config.yaml").read_text())


def test_f1_curve_decoded_preview_and_fine_tuning_a_session_model(viewer, qtbot, errors, tmp_path):
    viewer.open_sample("img2img-microscopy", "nuclei")
    runner = RunWidget(viewer)
    trainer = TrainWidget(viewer)
    trainer.target_box.setCurrentText("nuclei_masks")
    first = train_until_done(trainer, qtbot, "nuclei", tmp_path / "first", STEPS)
    assert not errors, errors
    steps, values = trainer.plot.scores["val/f1"]
    assert steps == list(range(1, STEPS + 1)) and all(0.0 <= v <= 1.0 for v in values)
    assert trainer.plot.score_axes.get_visible()
    shown = trainer.preview.shown
    assert isinstance(shown, np.ndarray) and shown.ndim == 3 and shown.shape[2] == 3  # decoded, not a file
    assert not trainer.preview.pixmap().isNull()

    # The model just trained is offered as a starting point; the width then comes from it.
    trainer.start_box.choose(str(first.resolve()))
    assert trainer.start_box.init_from == str(first.resolve()) and not trainer.channels_box.isEnabled()
    second = train_until_done(trainer, qtbot, "nuclei", tmp_path / "second", 1)
    assert not errors, errors
    assert second != first and saved_config(second)["init_from"] == str(first.resolve())
    assert runner.entry.source == str(second.resolve())
    (labels,) = run(runner, qtbot, "nuclei")
    assert not errors, errors
    assert labels._type_string == "labels" and labels.data.shape == (512, 512)

    trainer.restore_defaults()
    assert trainer.start_box.init_from is None and trainer.channels_box.isEnabled()


def test_fine_tune_the_builtin_model_from_a_gray_layer_then_run_it(viewer, qtbot, errors, tmp_path):
    viewer.open_sample("img2img-microscopy", "nuclei")  # 16-bit, one channel, and a Labels layer
    runner = RunWidget(viewer)
    trainer = TrainWidget(viewer)
    trainer.kind_box.setCurrentIndex(trainer.kind_box.findData("translation"))
    trainer.start_box.choose("builtin:nuclei")
    assert trainer.kind == "segmentation"  # the starting model decides what is trained
    trainer.target_box.setCurrentText("nuclei_masks")
    tuned = train_until_done(trainer, qtbot, "nuclei", tmp_path / "tuned", 1)
    assert not errors, errors
    config = saved_config(tuned)
    builtin = torch.load(builtin_model_path("nuclei"), weights_only=True)["hyper_parameters"]["config"]
    assert config["init_from"] == "builtin:nuclei"
    assert config["model"]["generator"]["depth"] == builtin["model"]["generator"]["depth"]
    assert runner.entry.source == str(tuned.resolve())
    (labels,) = run(runner, qtbot, "nuclei")
    assert not errors, errors
    assert labels._type_string == "labels" and labels.data.shape == (512, 512)


def test_fine_tune_a_model_that_reads_any_image_and_was_trained_at_an_object_size(viewer, qtbot, errors, tmp_path):
    """What the retrained built-in model is (input_channels rgb, object_diameter 24), as an opened
    file: a gray layer trains it, and the result keeps its object size in the Run widget."""
    stand_in = untrained(depth=4, in_channels=3, sections={"input_channels": "rgb",
                                                           "segmentation": {"object_diameter": 24}})
    opened = CATALOG.add(save_checkpoint(stand_in, tmp_path / "rgb_sized.ckpt"))
    viewer.open_sample("img2img-microscopy", "nuclei")
    runner = RunWidget(viewer)
    trainer = TrainWidget(viewer)
    trainer.start_box.choose(opened.source)
    assert trainer.start_box.init_from == opened.source
    trainer.target_box.setCurrentText("nuclei_masks")
    tuned = train_until_done(trainer, qtbot, "nuclei", tmp_path / "tuned", 1)
    assert not errors, errors
    config = saved_config(tuned)
    assert config["input_channels"] == "rgb" and config["segmentation"]["object_diameter"] == 24
    assert runner.entry.source == str(tuned.resolve()) and runner.diameter_box.isEnabled()
    (labels,) = run(runner, qtbot, "nuclei")
    assert not errors, errors
    assert labels.data.shape == (512, 512) and runner.last_predictor.object_scale.diameter == "auto"
