"""Numeric options and pixel values that once gave wrong results with exit 0 or no warning."""

import subprocess
import sys

import numpy as np
import pytest
import tifffile

from img2img.cli import main


@pytest.mark.parametrize("option", [["--batch-size", "-3"], ["--batch-size", "0"], ["--tile", "-64"], ["--tile", "0"]])
def test_sizes_below_one_are_refused_before_anything_is_written(segmenter, tmp_path, capsys, option):
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(0).integers(0, 4000, (64, 64), dtype=np.uint16))
    code = main(["infer", str(tmp_path / "a.tif"), "--model", str(segmenter), "--output", str(tmp_path / "out"), *option])
    err = capsys.readouterr().err
    assert code == 2 and f"{option[0]} {option[1]}: must be a whole number of at least 1" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_nan_and_inf_pixels_are_segmented_with_a_warning(segmenter, tmp_path):
    image = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    image[:4, :5] = np.nan
    image[10, 10] = np.inf
    tifffile.imwrite(tmp_path / "holes.tif", image)
    with pytest.warns(UserWarning, match=r"holes.tif: 21 NaN/Inf pixel\(s\) \(0.51%\)"):
        code = main(["infer", str(tmp_path / "holes.tif"), "--model", str(segmenter), "--output", str(tmp_path / "out")])
    assert code == 0 and tifffile.imread(tmp_path / "out" / "holes.tif").shape == (64, 64)


def test_finite_float_images_raise_no_warning(segmenter, tmp_path, recwarn):
    tifffile.imwrite(tmp_path / "clean.tif", np.random.default_rng(0).random((64, 64)).astype(np.float32))
    assert main(["infer", str(tmp_path / "clean.tif"), "--model", str(segmenter), "--output", str(tmp_path / "out")]) == 0
    assert not [w for w in recwarn if "NaN/Inf" in str(w.message)]


def test_a_warning_is_one_line_at_the_terminal(segmenter, tmp_path):
    image = np.zeros((64, 64), np.float32)
    image[0, 0] = np.nan
    tifffile.imwrite(tmp_path / "holes.tif", image)
    run = subprocess.run([sys.executable, "-m", "img2img", "infer", str(tmp_path / "holes.tif"), "--model", str(segmenter),
                          "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    warned = [line for line in run.stderr.splitlines() if "NaN/Inf" in line]
    assert warned == ["warning: holes.tif: 1 NaN/Inf pixel(s) (0.02%); NaN and -Inf are read as the image's low end, "
                      "+Inf as its high end"], run.stderr
