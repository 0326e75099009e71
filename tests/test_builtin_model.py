"""The nuclei segmenter that ships in the package: found by name, small, and good on nuclei unlike
those it trained on (it learned real DSB 2018 images; these are synthetic 16-bit ones). Its real-image
scores are guarded in test_builtin_on_real_nuclei.py."""

import numpy as np
import pytest
import tifffile

from img2img.builtin import builtin_model_path
from img2img.cli import main
from img2img.data.synthetic import render_cells
from img2img.errors import UserError


def test_builtin_model_is_packaged_small_and_loads_safely():
    path = builtin_model_path("nuclei")
    assert path.stat().st_size < 10e6
    with pytest.raises(UserError, match="unknown built-in model 'nope'; choose from nuclei"):
        builtin_model_path("nope")


def test_infer_with_builtin_nuclei_segments_unseen_nuclei(tmp_path):
    image, truth = render_cells(np.random.default_rng(123), (320, 384))
    tifffile.imwrite(tmp_path / "cells.tif", image)
    assert main(["infer", str(tmp_path / "cells.tif"), "--model", "builtin:nuclei", "--output", str(tmp_path / "out")]) == 0
    labels = tifffile.imread(tmp_path / "out" / "cells.tif")
    assert labels.shape == truth.shape and labels.dtype == np.uint16
    found, real = labels > 0, truth > 0
    assert (found & real).sum() / (found | real).sum() > 0.6
    assert abs(int(labels.max()) - int(truth.max())) <= 0.5 * truth.max()


def test_unknown_builtin_model_is_a_one_line_error(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "x.tif", np.zeros((64, 64), np.uint16))
    assert main(["infer", str(tmp_path / "x.tif"), "--model", "builtin:nope", "--output", str(tmp_path / "o")]) != 0
    assert "unknown built-in model 'nope'" in capsys.readouterr().err
