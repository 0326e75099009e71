"""Object size and channel handling: what lets one segmenter take real images of any
magnification and any channel layout."""

import numpy as np
import pytest
from skimage.draw import disk

from img2img.data.loading import load_segmentation_pair
from img2img.errors import UserError
from img2img.inference import Predictor
from img2img.inference.object_scale import ObjectScale, parse_diameter
from img2img.io.channels import adapt_channels
from img2img.io.images import write_image
from img2img.io.normalization import Normalization
from img2img.segmentation.object_size import (
    MAX_SCALE, equivalent_diameters, median_diameter, resize_labels, resize_planes, scale_for,
)
from tests.model_builders import untrained


def discs(shape, radius, spacing):
    """Labels of non-touching discs on a grid."""
    labels = np.zeros(shape, np.uint16)
    n = 0
    for r in range(spacing // 2, shape[0] - radius, spacing):
        for c in range(spacing // 2, shape[1] - radius, spacing):
            n += 1
            labels[disk((r, c), radius, shape=shape)] = n
    return labels


# --- channels ------------------------------------------------------------------------------
def test_gray_becomes_three_equal_channels_keeping_its_type():
    gray = np.arange(12, dtype=np.uint16).reshape(1, 3, 4)
    rgb = adapt_channels(gray, "rgb")
    assert rgb.shape == (3, 3, 4) and rgb.dtype == np.uint16
    assert all(np.array_equal(c, gray[0]) for c in rgb)


def test_rgba_loses_alpha_and_two_channels_are_averaged():
    rgba = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 20, 30, 255)])
    assert adapt_channels(rgba, "rgb").tolist() == rgba[:3].tolist()
    two = np.stack([np.zeros((2, 2)), np.full((2, 2), 4.0)]).astype(np.float32)
    assert np.allclose(adapt_channels(two, "rgb"), 2.0) and adapt_channels(two, "rgb").shape == (3, 2, 2)


def test_colour_to_gray_is_luminance():
    rgb = np.stack([np.full((2, 2), v, np.float32) for v in (1.0, 0.0, 0.0)])
    assert np.allclose(adapt_channels(rgb, "gray"), 0.299)
    assert adapt_channels(rgb, "as_stored") is rgb


# --- measuring and rescaling ---------------------------------------------------------------
def test_equivalent_diameter_of_a_disc():
    labels = discs((100, 100), 10, 40)
    assert np.allclose(equivalent_diameters(labels), 20, atol=0.6)
    assert median_diameter(np.zeros((5, 5), int)) is None


def test_scale_is_clipped_and_neutral_without_objects():
    assert scale_for(12, 24) == 2.0
    assert scale_for(1, 24) == MAX_SCALE
    assert scale_for(None, 24) == 1.0


def test_label_resizing_never_invents_labels():
    labels = discs((60, 60), 6, 20)
    bigger = resize_labels(labels, (150, 150))
    assert set(np.unique(bigger)) == set(np.unique(labels))
    assert resize_planes(np.ones((3, 60, 60)), (30, 31)).shape == (3, 30, 31)


def test_training_pairs_are_rescaled_to_the_object_diameter(tmp_path):
    labels = discs((200, 200), 6, 30)  # 12 px nuclei
    image = (labels > 0).astype(np.uint8) * 200
    write_image(tmp_path / "a.png", np.stack([image] * 3 + [np.full_like(image, 255)], -1), axes="YXC")
    write_image(tmp_path / "a.tif", labels, axes="YX")
    pair = load_segmentation_pair(tmp_path / "a.png", tmp_path / "a.tif", Normalization(), "rgb", 24.0)
    assert pair.input.shape[0] == 3  # RGBA -> RGB
    assert pair.input.shape[1:] == pair.target.shape[1:] == pair.labels.shape
    assert pair.labels.shape[0] == pytest.approx(200 * 24 / median_diameter(labels), abs=1)  # about doubled
    assert median_diameter(pair.labels) == pytest.approx(24, abs=1.0)


# --- choosing the scale at inference -------------------------------------------------------
def test_diameter_parsing():
    assert parse_diameter("auto") == "auto" and parse_diameter("17") == 17.0 and parse_diameter(None) is None
    for bad in ("-3", "0", "big", "nan"):
        with pytest.raises(UserError, match="--diameter"):
            parse_diameter(bad)


def test_a_given_diameter_sets_the_scale():
    assert ObjectScale(24, "12").scale(np.zeros((1, 50, 50)), lambda crop, s: None) == 2.0


def test_auto_estimate_converges_for_a_segmenter_biased_off_its_scale():
    """A fake segmenter that sees true 8 px objects, but at scales far from the trained one
    reports them half-way wrong: the estimate must still settle at 24 / 8 = 3."""
    true_diameter, model_diameter, seen = 8.0, 24.0, []

    def segment_at(crop, scale):
        seen.append(scale)
        apparent = true_diameter * scale
        reported = true_diameter * np.sqrt(model_diameter / apparent)  # biased unless apparent == 24
        return discs(crop.shape[-2:], int(round(reported / 2)), int(2 * reported + 6))

    scale = ObjectScale(model_diameter, "auto").scale(np.zeros((1, 400, 400)), segment_at)
    assert scale == pytest.approx(3.0, rel=0.15)
    assert len(seen) <= 4


def test_numeric_diameter_needs_a_model_trained_at_a_size():
    with pytest.raises(UserError, match="no segmentation.object_diameter"):
        ObjectScale(None, 12)


# --- the Predictor ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rgb_segmenter():
    model = untrained(in_channels=3, sections={"input_channels": "rgb", "segmentation": {"object_diameter": 24}})
    return Predictor(model, device="cpu", precision="32")


@pytest.mark.parametrize("image, axes", [
    (np.random.default_rng(0).integers(0, 60000, (70, 90)).astype(np.uint16), "YX"),
    (np.random.default_rng(1).integers(0, 255, (70, 90, 3)).astype(np.uint8), "YXC"),
    (np.random.default_rng(2).integers(0, 255, (70, 90, 4)).astype(np.uint8), "YXC"),
    (np.random.default_rng(3).random((70, 90)).astype(np.float32), "YX"),
])
def test_any_channel_layout_and_type_is_segmented(rgb_segmenter, image, axes):
    labels = rgb_segmenter.predict(image, axes)
    assert labels.shape == (70, 90) and labels.dtype == np.uint16
    assert rgb_segmenter.predict_probabilities(image, axes).shape == (2, 70, 90)


def test_the_plane_is_rescaled_by_the_given_diameter(rgb_segmenter, monkeypatch):
    predictor = Predictor(rgb_segmenter.model, device="cpu", precision="32", diameter=12)
    sizes = []
    blend = predictor._blend_whole
    monkeypatch.setattr(predictor, "_blend_whole", lambda plane: sizes.append(plane.shape[-2:]) or blend(plane))
    labels = predictor.predict(np.zeros((50, 60), np.uint8))
    assert sizes == [(100, 120)] and labels.shape == (50, 60)


def test_diameter_is_refused_for_image_models():
    with pytest.raises(UserError, match="segmentation models"):
        Predictor(untrained(task="translation", out_channels=1), device="cpu", diameter=10)


def test_tta_averages_the_eight_turns_and_flips_back_into_place(rgb_segmenter):
    """A plane that is symmetric under every flip and turn gives symmetric maps; and TTA maps are
    the mean of the maps of each transformed plane turned back."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, 255, (64, 64, 3)).astype(np.uint8)
    plain = Predictor(rgb_segmenter.model, device="cpu", precision="32", diameter=24)
    tta = Predictor(rgb_segmenter.model, device="cpu", precision="32", diameter=24, tta=True)
    planes, _ = plain._planes(image, "YXC")
    expected = np.mean([
        np.rot90((lambda m: m[..., ::-1] if flip else m)(
            plain._blend_whole(np.ascontiguousarray((lambda v: v[..., ::-1] if flip else v)(np.rot90(planes[0], k, (-2, -1)))))
        ), -k, (-2, -1)) for k in range(4) for flip in (False, True)], axis=0)
    np.testing.assert_allclose(tta.predict_probabilities(image, "YXC"), expected, atol=1e-5)
    assert not np.allclose(plain.predict_probabilities(image, "YXC"), expected, atol=1e-3)
