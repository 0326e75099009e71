"""`--compile`: the compiled network gives the eager network's output, and a compiler that fails
(no C++ compiler for the CPU backend, say) falls back to eager with a warning, not an error."""

import numpy as np
import pytest
import torch

from img2img.inference.predictor import Predictor

from tests.model_builders import untrained


def test_compiled_predictor_matches_eager():
    model = untrained(task="translation", out_channels=1)
    image = np.random.default_rng(0).integers(0, 4000, (96, 80)).astype(np.uint16)
    eager = Predictor(model, device="cpu", tile=64, overlap=16, precision="32").predict(image)
    compiled = Predictor(model, device="cpu", tile=64, overlap=16, precision="32", compile=True)
    out = compiled.predict(image)
    assert compiled._compiled is not None
    assert out.dtype == eager.dtype and np.abs(out.astype(np.int64) - eager.astype(np.int64)).max() <= 1


def test_a_failing_compiler_falls_back_to_eager(monkeypatch):
    def broken(module, *args, **kwargs):
        def fail(*a, **k):
            raise RuntimeError("no C++ compiler found\nlong details")
        return fail

    monkeypatch.setattr(torch, "compile", broken)
    model = untrained(task="translation", out_channels=1)
    image = np.random.default_rng(1).integers(0, 4000, (64, 64)).astype(np.uint16)
    predictor = Predictor(model, device="cpu", tile=64, precision="32", compile=True)
    with pytest.warns(UserWarning, match="--compile failed.*no C\\+\\+ compiler found"):
        out = predictor.predict(image)
    assert predictor._compiled is None
    np.testing.assert_array_equal(out, Predictor(model, device="cpu", tile=64, precision="32").predict(image))
