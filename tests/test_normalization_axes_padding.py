"""Normalization round trips per dtype, axis bookkeeping, and padding for any size."""

import numpy as np
import pytest
from pydantic import ValidationError

from img2img.io.axes import from_planes, guess_axes, to_planes
from img2img.io.normalization import Normalization, cast_clipped, unscale_from_unit
from img2img.nets.padding import crop_to, pad_to_multiple


@pytest.mark.parametrize("dtype,top", [("uint8", 255), ("uint16", 65535), ("float32", 1.0)])
def test_percentile_normalization_round_trip(dtype, top):
    rng = np.random.default_rng(1)
    raw = (rng.random((2, 40, 50)) * top * 0.8).astype(dtype)
    norm = Normalization(low=1, high=99.8)
    x = norm.normalize(raw)
    assert x.dtype == np.float32
    assert -1.1 < np.percentile(x, 1) < -0.9 and 0.9 < np.percentile(x, 99.8) < 1.1
    lo, hi = norm.range_of(raw)
    back = unscale_from_unit(x, lo, hi, dtype)
    assert back.dtype == np.dtype(dtype)
    tolerance = 0.5 if dtype != "float32" else 1e-5
    assert np.abs(back.astype(np.float64) - raw.astype(np.float64)).max() <= tolerance


def test_dtype_and_fixed_modes():
    raw = np.array([[[0, 65535]]], np.uint16)
    np.testing.assert_allclose(Normalization(mode="dtype").normalize(raw), [[[-1, 1]]])
    fixed = Normalization(mode="fixed", min_value=0, max_value=4095)
    np.testing.assert_allclose(fixed.normalize(np.array([[[4095]]], np.uint16)), [[[1]]])
    with pytest.raises(ValidationError):
        Normalization(mode="fixed")
    with pytest.raises(ValidationError):
        Normalization(low=50, high=10)


def test_cast_clips_instead_of_wrapping():
    np.testing.assert_array_equal(cast_clipped(np.array([-5.0, 300.0, 12.4]), "uint8"), [0, 255, 12])


@pytest.mark.parametrize("axes,shape", [("YX", (5, 6)), ("YXC", (5, 6, 3)), ("CYX", (2, 5, 6)), ("ZYX", (4, 5, 6)), ("TZCYX", (2, 3, 2, 5, 6))])
def test_planes_round_trip(axes, shape):
    data = np.arange(np.prod(shape)).reshape(shape)
    planes, plane_axes = to_planes(data, axes)
    assert planes.shape[-2:] == (5, 6)
    plane_shape = tuple(shape[axes.index(a)] for a in plane_axes)
    out_axes = plane_axes + "".join(a for a in axes if a in "CYX") if "C" in axes else plane_axes + "CYX"
    restored = from_planes(planes, plane_shape, out_axes)
    expected = data if "C" in axes else data[..., None, :, :]
    if "C" in axes:
        expected = np.transpose(data, [axes.index(a) for a in out_axes])
    np.testing.assert_array_equal(restored, expected)


def test_guess_axes():
    assert guess_axes((10, 12)) == "YX"
    assert guess_axes((10, 12, 3)) == "YXC"
    assert guess_axes((2, 10, 12), n_channels=2) == "CYX"
    assert guess_axes((7, 10, 12), n_channels=1) == "ZYX"


@pytest.mark.parametrize("h,w", [(1000, 777), (5, 3), (64, 64), (65, 1)])
def test_pad_to_multiple_and_crop_back(h, w):
    x = np.random.default_rng(0).random((2, h, w)).astype(np.float32)
    padded, size = pad_to_multiple(x, 64)
    assert padded.shape[-2] % 64 == 0 and padded.shape[-1] % 64 == 0
    assert padded.shape[-2] >= 64 and padded.shape[-1] >= 64
    np.testing.assert_array_equal(crop_to(padded, size), x)
