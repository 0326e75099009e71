"""Property-based fuzzing of what users type: `infer`'s name templates, patterns and numeric
options, and config values given with `--set`. Every run ends in a result (exit 0) or one
line (exit 2), never a traceback, and never writes outside `--output`.

Bounded examples by default; the long campaign: `pytest -m fuzz --hypothesis-profile=long`.
"""

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st

from img2img.cli import main
from img2img.config import load_config
from img2img.errors import UserError

pytestmark = pytest.mark.fuzz

# Characters that matter to templates, globs and paths, plus some letters.
TRICKY = "{}[]*?:!/.\\-_ ~$%'\"\x00é" + "stemnamesuffixab01"


def run_infer(model: Path, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "in").mkdir()
        tifffile.imwrite(root / "in" / "a.tif", np.random.default_rng(0).integers(0, 4000, (48, 48), dtype=np.uint16))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(["infer", str(root / "in"), "--model", str(model), "--output", str(root / "out"), *extra])
            except SystemExit as exit_:  # argparse: a value of the wrong type
                code = exit_.code
        text = err.getvalue()
        assert "Traceback" not in text, text
        assert code in (0, 2), (code, text)
        if code == 2 and text.strip():
            assert text.strip().splitlines()[-1].startswith(("error:", "img2img")), text
        stray = [p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(root / "out") and p.name != "a.tif"]
        assert not stray, (extra, stray)
        if code == 0:
            assert [p for p in (root / "out").rglob("*") if p.is_file()], extra


def pieces(*words: str) -> st.SearchStrategy[str]:
    """Random text, or words that mean something joined at random (so that some runs succeed)."""
    return st.one_of(st.text(TRICKY, max_size=16), st.lists(st.sampled_from(words), max_size=5).map("".join))


@given(template=pieces("{stem}", "{name}", "{suffix}", "_mask", ".tif", ".png", ".ome.zarr", "/", "..", "{", "}", "{0}"))
def test_any_name_template(segmenter, template):
    run_infer(segmenter, ["--name", template])


@given(pattern=pieces("*", ".tif", "a", "sub/", "../", "**/", "?", "[a]", "/tmp/", "~"))
def test_any_pattern(segmenter, pattern):
    run_infer(segmenter, ["--pattern", pattern])


numbers = st.one_of(st.integers(-2**40, 2**40).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
                    st.sampled_from(["", "auto", "1e999", "0x10", "-0", "nan", "3.5", "2**9"]))


@given(option=st.sampled_from(["--tile", "--overlap", "--batch-size", "--diameter", "--workers"]), value=numbers)
def test_any_numeric_option(segmenter, option, value):
    if option in ("--tile", "--overlap") and value.lstrip("-").isdigit() and 8 < abs(int(value)) < 10**6 and int(value) > 0:
        value = str(min(int(value), 256))  # a valid but huge tile only costs time
    run_infer(segmenter, [option, value])


CONFIG_KEYS = ["schedule.steps", "data.patch_size", "data.batch_size", "optimizer.lr", "model.generator.depth",
               "model.generator.base_channels", "trainer.val_every_steps", "seed", "augmentation.scale",
               "segmentation.object_diameter", "input_channels", "task", "model.name", "model.generator.kind",
               "data.kind", "data", "schedule"]
values = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats().map(str), st.text(TRICKY, max_size=10),
                   st.sampled_from(["true", "null", "[]", "{}", "[1, 2]", "{a: 1}", "'", "!!binary x", "*a", "&a 1"]))


@given(key=st.sampled_from(CONFIG_KEYS), value=values)
def test_any_config_value(key, value):
    config = Path(__file__).resolve().parents[1] / "experiments" / "cell_segmentation.yaml"
    try:
        load_config(config, overrides=[f"{key}={value}"])
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)
