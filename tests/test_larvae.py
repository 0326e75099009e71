"""Synthetic larva arenas: clean (sim) and camera-like (real) renders with their positions."""

import json

import numpy as np
import pytest
import tifffile

from img2img.cli import main
from img2img.data.synthetic import render_larvae
from img2img.data.synthetic.larvae import COUNT, POINTS


def test_scenes_are_reproducible_and_hold_several_larvae_inside_the_arena():
    image, truth = render_larvae(np.random.default_rng([0, 1, 0]))
    again, _ = render_larvae(np.random.default_rng([0, 1, 0]))
    assert np.array_equal(image, again) and image.shape == (256, 256) and image.dtype == np.uint8
    (cx, cy), r = truth["arena"]["centre"], truth["arena"]["radius"]
    assert COUNT[0] <= len(truth["larvae"]) <= COUNT[1]
    for larva in truth["larvae"]:
        skeleton = np.array(larva["skeleton"])
        assert skeleton.shape == (POINTS, 2) and larva["head"] == larva["skeleton"][0] and larva["tail"] == larva["skeleton"][-1]
        assert np.hypot(skeleton[:, 0] - cx, skeleton[:, 1] - cy).max() < r
        x, y = (int(round(v)) for v in larva["centre"])
        assert image[y, x] < image[int(cy), int(cx)] or image[y, x] < 150  # bodies are darker than the arena


def _open_agar(truth: dict, size: int) -> np.ndarray:
    """Arena pixels at least 15 px from every larva and 10 px from the rim."""
    y, x = np.mgrid[:size, :size]
    (cx, cy), r = truth["arena"]["centre"], truth["arena"]["radius"]
    free = np.hypot(x - cx, y - cy) < r - 10
    for larva in truth["larvae"]:
        for px, py in larva["skeleton"]:
            free &= np.hypot(x - px, y - py) > 15
    return free


def test_sim_is_clean_and_real_is_textured_noisy_and_blurred():
    sim, sim_truth = render_larvae(np.random.default_rng(0))
    real, real_truth = render_larvae(np.random.default_rng(0), realistic=True)
    assert np.unique(sim[_open_agar(sim_truth, 256)]).size == 1  # a flat simulated arena
    agar = real[_open_agar(real_truth, 256)].astype(float)
    assert agar.std() > 5  # texture, uneven light, noise
    step = np.abs(np.diff(real.astype(float), axis=1))[:, :-1][_open_agar(real_truth, 256)[:, 1:-1]]
    assert step.mean() < 3 * agar.std()  # blurred: neighbours are closer than random pixels
    assert render_larvae(np.random.default_rng(0), bit_depth=16)[0].dtype == np.uint16


def test_synth_larvae_writes_sim_and_real_with_positions(tmp_path, capsys):
    out = tmp_path / "larvae"
    assert main(["synth", "larvae", "--output", str(out), "--n", "2", "--seed", "4"]) == 0
    assert "sim" in capsys.readouterr().out
    for domain in ("sim", "real"):
        names = sorted(p.name for p in (out / domain).iterdir())
        assert names == ["larvae_0000.json", "larvae_0000.tif", "larvae_0001.json", "larvae_0001.tif"]
        truth = json.loads((out / domain / "larvae_0000.json").read_text())
        assert truth["domain"] == domain and truth["image"] == "larvae_0000.tif" and truth["larvae"]
        assert tifffile.imread(out / domain / "larvae_0000.tif").shape == (256, 256)
    sim = json.loads((out / "sim" / "larvae_0000.json").read_text())
    real = json.loads((out / "real" / "larvae_0000.json").read_text())
    assert sim["larvae"] != real["larvae"]  # other scenes, as with real recordings
    assert main(["synth", "larvae", "--output", str(out), "--n", "1"]) == 2  # refuses to mix into a full folder


@pytest.mark.parametrize("seed", range(5))
def test_every_larva_is_drawn(seed):
    image, truth = render_larvae(np.random.default_rng(seed), size=128)
    for larva in truth["larvae"]:
        x, y = (int(round(v)) for v in larva["centre"])
        arena = image[int(truth["arena"]["centre"][1]) - 2 : int(truth["arena"]["centre"][1]) + 3].max()
        assert image[y, x] < arena
