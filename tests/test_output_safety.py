"""Inference never overwrites inputs or its own results; bad devices and axes are clear errors."""

from pathlib import Path

import numpy as np
import pytest

from img2img.errors import UserError
from img2img.inference.device import resolve_device
from img2img.inference.outputs import Job, plan_outputs
from img2img.io.axes import to_planes


def test_outputs_are_named_after_inputs():
    plan = plan_outputs([Path("in/a.png"), Path("in/b.tif")], Path("out"), probabilities=True)
    assert plan[0] == Job(Path("in/a.png"), Path("out/a.tif"), Path("out/a_probabilities.tif"))
    assert plan[1].destination == Path("out/b.tif")


def test_an_input_is_never_an_output(tmp_path):
    (tmp_path / "a.tif").write_bytes(b"x")
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(UserError, match="this input would be overwritten"):
        plan_outputs([tmp_path / "a.png", tmp_path / "a.tif"], tmp_path, probabilities=False)
    with pytest.raises(UserError, match="this input would be overwritten"):
        plan_outputs([tmp_path / "a.tif"], tmp_path, probabilities=False)


def test_two_inputs_cannot_write_the_same_result():
    with pytest.raises(UserError, match="would both write"):
        plan_outputs([Path("x/a.png"), Path("y/a.png")], Path("out"), probabilities=False)
    with pytest.raises(UserError, match="would both write"):
        plan_outputs([Path("x/a.png"), Path("x/a_probabilities.tif")], Path("out"), probabilities=True)


@pytest.mark.parametrize("device", ["foo", "mps", "cuda:x", "gpu"])
def test_unknown_device_is_a_clear_error(device):
    with pytest.raises(UserError, match="use auto, cpu, cuda or cuda:N"):
        resolve_device(device)


def test_cpu_device_is_accepted():
    assert resolve_device("cpu") == "cpu"


def test_repeated_axes_are_a_clear_error():
    with pytest.raises(UserError, match="name an axis twice"):
        to_planes(np.zeros((2, 3, 4, 5)), "QZYX")
