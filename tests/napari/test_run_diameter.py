"""The Run widget's object diameter: given or auto, it reaches the Predictor of models trained at
an object size, the size used is reported, and the setting is off for other models."""

import re

import numpy as np
import pytest

from img2img_napari.run_widget import RESULT_CONTOUR, RunWidget
from tests.model_builders import save_checkpoint, untrained
from tests.napari.widget_helpers import run

pytestmark = pytest.mark.gui
TRAINED_DIAMETER = 24.0


@pytest.fixture
def sized_model(tmp_path):
    """An untrained segmenter that says it was trained on objects 24 px wide (shapes, not quality)."""
    model = untrained(sections={"segmentation": {"object_diameter": TRAINED_DIAMETER}})
    return save_checkpoint(model, tmp_path / "sized.ckpt")


@pytest.fixture
def image(viewer):
    rng = np.random.default_rng(0)
    viewer.add_image(rng.integers(0, 4000, (2, 128, 160)).astype(np.uint16), name="cells")
    return "cells"


def test_given_and_auto_diameters_reach_the_predictor(viewer, qtbot, errors, sized_model, image):
    widget = RunWidget(viewer)
    widget.add_model(sized_model)
    assert widget.diameter_box.isEnabled() and "24 px" in widget.diameter_box.toolTip()
    assert widget.diameter_box.text() == "auto"  # the default

    widget.diameter_box.setValue(12)
    (labels,) = run(widget, qtbot, image)
    assert not errors, errors
    assert labels._type_string == "labels" and labels.data.shape == (2, 128, 160)
    assert labels.contour == RESULT_CONTOUR
    scale = widget.last_predictor.object_scale
    assert (scale.diameter, scale.last_diameter) == (12.0, 12.0)
    assert "object diameter 12 px (given)" in widget.status.text()

    widget.diameter_box.setValue(0)
    run(widget, qtbot, image)
    assert not errors, errors
    assert widget.last_predictor.object_scale.diameter == "auto"
    measured = widget.last_predictor.object_scale.last_diameter
    text = widget.status.text()
    if measured is None:  # an untrained model may find nothing to measure
        assert "could not be measured" in text
    else:
        assert re.search(rf"object diameter estimated {measured:.1f} px on the last plane", text), text


def test_models_without_an_object_size_have_the_setting_off(viewer, qtbot, errors, tmp_path, image):
    widget = RunWidget(viewer)
    for model in (untrained(), untrained(task="translation", out_channels=1)):
        widget.add_model(save_checkpoint(model, tmp_path / f"{model.config.task}.ckpt"))
        assert not widget.diameter_box.isEnabled() and widget.diameter_box.diameter is None
        run(widget, qtbot, image)
        assert not errors, errors
        assert not widget.last_predictor.object_scale.active and "diameter" not in widget.status.text()
