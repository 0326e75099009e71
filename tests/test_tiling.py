"""Tiles cover every pixel, weights blend without seams, and tiled equals untiled where it should."""

import numpy as np
import pytest

from img2img.errors import UserError
from img2img.inference import Predictor
from img2img.inference.tiling import AxisTiles, TileGrid
from tests.model_builders import untrained


@pytest.mark.parametrize("length,tile,overlap,multiple", [(2000, 512, 128, 256), (1000, 256, 64, 8), (777, 128, 32, 16), (33, 64, 16, 8), (64, 64, 16, 8)])
def test_tiles_are_aligned_and_cover_the_axis(length, tile, overlap, multiple):
    axis = AxisTiles.plan(length, tile, overlap, multiple)
    assert axis.padded % multiple == 0 and axis.padded >= length
    assert all(s % multiple == 0 for s in axis.starts)
    assert axis.starts[0] == 0 and axis.starts[-1] + axis.size == axis.padded
    gaps = [b - a for a, b in zip(axis.starts, axis.starts[1:])]
    assert all(axis.size - g >= overlap for g in gaps), "every overlap is at least the one asked for"


@pytest.mark.parametrize("length,tile,overlap", [(2000, 512, 128), (1500, 256, 64), (300, 128, 48)])
def test_blending_weights_sum_to_one(length, tile, overlap):
    axis = AxisTiles.plan(length, tile, overlap, 8)
    total = np.zeros(axis.padded)
    for i, s in enumerate(axis.starts):
        total[s : s + axis.size] += axis.weights(i)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_tiled_equals_untiled_for_a_local_network():
    """A shallow U-Net in eval mode sees only ~40 px around a pixel: with tiles on its 8 px grid
    and margins wider than that, tiling changes nothing but float rounding."""
    model = untrained(depth=3)
    image = np.random.default_rng(0).integers(0, 4000, (400, 328)).astype(np.uint16)
    tiled = Predictor(model, device="cpu", tile=128, overlap=96, precision="32")
    whole = Predictor(model, device="cpu", tile=1024, precision="32")
    assert len(TileGrid.plan(400, 328, 128, 96, 8)) > 9
    a, b = tiled.predict_probabilities(image), whole.predict_probabilities(image)
    assert a.shape == b.shape == (2, 400, 328)
    np.testing.assert_allclose(a, b, atol=2e-5)


def test_deep_network_tiles_leave_no_seam():
    """A 6-level U-Net sees ~300 px, more than any overlap worth paying for: tiled and untiled
    differ a little, but smoothly. Without blending, the same tiles leave steps at their borders."""
    model = untrained(depth=6)
    image = np.random.default_rng(1).integers(0, 4000, (256, 512)).astype(np.uint16)
    whole = Predictor(model, device="cpu", tile=1024, precision="32").predict_probabilities(image)

    def seam_and_error(overlap):
        tiled = Predictor(model, device="cpu", tile=128, overlap=overlap, precision="32").predict_probabilities(image)
        difference = tiled - whole
        return np.abs(np.diff(difference, axis=-1)).max(), np.abs(difference).mean()

    blended_step, blended_error = seam_and_error(64)
    cut_step, cut_error = seam_and_error(0)
    assert blended_error < 0.02 and blended_step < 0.25
    assert cut_step > 0.5 and cut_error > 2 * blended_error


def test_images_smaller_than_a_tile_and_odd_sizes():
    predictor = Predictor(untrained(depth=3), device="cpu", tile=64, overlap=16, precision="32")
    for shape in [(5, 7), (1000, 777), (64, 65)]:
        image = np.random.default_rng(2).integers(0, 255, shape).astype(np.uint8)
        assert predictor.predict_probabilities(image).shape == (2,) + shape
        assert predictor.predict(image).shape == shape


def test_progress_hook_counts_every_tile():
    predictor = Predictor(untrained(depth=3), device="cpu", tile=64, overlap=16, batch_size=3, precision="32")
    seen = []
    predictor.on_tiles = seen.append
    stack = np.zeros((2, 150, 100), np.uint16)
    predictor.predict_probabilities(stack, axes="ZYX")
    assert sum(seen) == predictor.count_tiles(stack.shape, "ZYX") == 2 * len(TileGrid.plan(150, 100, 64, 16, 8))


def test_tile_and_overlap_can_be_set_per_call():
    predictor = Predictor(untrained(depth=3), device="cpu", tile=256, precision="32")
    image = np.random.default_rng(3).integers(0, 4000, (200, 200)).astype(np.uint16)
    seen = []
    predictor.on_tiles = seen.append
    predictor.predict(image, tile=64, overlap=32)
    assert sum(seen) == len(TileGrid.plan(200, 200, 64, 32, 8)) and (predictor.tile, predictor.overlap) == (256, 32)
    with pytest.raises(UserError, match="smaller than the tile"):
        predictor.predict(image, tile=64, overlap=64)
