"""The fast path is the default: `compile='auto'` compiles only networks measured to gain, only for
planes whose work repays it, and the same file gives the same result alone or after others; the
GPU benchmark suite runs (small) on a CPU, so it cannot rot."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from img2img.errors import UserError
from img2img.inference import compiling
from img2img.inference.predictor import Predictor

from tests.model_builders import untrained, untrained_kind

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def compiles(monkeypatch):
    """torch.compile replaced by a recorder that runs the module eagerly (the decision is under test,
    not Inductor), and a threshold low enough for test-sized planes: 300k FLOPs per pixel x 96²."""
    calls = []

    def fake_compile(module, **kwargs):
        calls.append(type(module).__name__)
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    monkeypatch.setitem(compiling.COMPILE_MIN_FLOPS, "cpu", 3e5 * 96 * 96)
    return calls


def test_auto_compiles_resnets_on_large_planes_only(compiles):
    model = untrained_kind("cyclegan")
    predictor = Predictor(model, device="cpu", tile=64, overlap=16, precision="32")
    assert predictor.compile == "auto"
    small = np.random.default_rng(0).integers(0, 255, (32, 32)).astype(np.uint8)
    large = np.random.default_rng(1).integers(0, 255, (512, 512)).astype(np.uint8)
    predictor.predict(small)
    assert not predictor._use_compiled and compiles == []
    alone = predictor.predict(large)
    assert predictor._use_compiled and compiles == ["CycleGAN"]
    after = Predictor(model, device="cpu", tile=64, overlap=16, precision="32")
    after.predict(small)
    np.testing.assert_array_equal(after.predict(large), alone)


def test_auto_leaves_unets_eager_and_off_means_off(compiles):
    model = untrained(task="translation", out_channels=1)
    large = np.random.default_rng(1).integers(0, 4000, (512, 512)).astype(np.uint16)
    Predictor(model, device="cpu", tile=128, precision="32").predict(large)
    Predictor(untrained_kind("cyclegan"), device="cpu", tile=64, precision="32", compile="off").predict(large[:256, :256])
    assert compiles == []


def test_compile_settings_and_the_persistent_cache(monkeypatch, tmp_path):
    assert [compiling.compile_setting(v) for v in (None, "auto", True, "on", False, "off")] == \
        ["auto", "auto", "on", "on", "off", "off"]
    with pytest.raises(UserError, match="--compile sometimes"):
        compiling.compile_setting("sometimes")
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compiling.use_persistent_cache()
    assert Path(compiling.os.environ["TORCHINDUCTOR_CACHE_DIR"]) == tmp_path / "img2img" / "inductor"
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/somewhere/else")
    compiling.use_persistent_cache()
    assert compiling.os.environ["TORCHINDUCTOR_CACHE_DIR"] == "/somewhere/else"  # the user's choice stays


def test_cli_compile_option_defaults_to_auto():
    from img2img.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["infer", "i", "--model", "m", "--output", "o"]).compile == "auto"
    assert parser.parse_args(["infer", "i", "--model", "m", "--output", "o", "--compile"]).compile == "on"
    assert parser.parse_args(["infer", "i", "--model", "m", "--output", "o", "--compile", "off"]).compile == "off"


@pytest.mark.slow
def test_the_gpu_suite_runs_small_on_a_cpu(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import gpu_suite

    assert gpu_suite.main(["--small", "--device", "cpu"]) == 0
    table = capsys.readouterr().out.split("\n\n")[-1]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert "skipped" not in table
    measured = {(what.strip(), model.strip()) for what, model, *_ in rows}
    assert len(measured) == len(gpu_suite.ORDER)
    for what, model, size, path, batch, throughput, ratio, memory, settings in rows:
        assert float(throughput.split()[0]) > 0 and float(ratio) > 0
    sys.modules.pop("gpu_suite", None)
