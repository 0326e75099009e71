"""Layers <-> Predictor arrays and layers -> training folders, without a window."""

import numpy as np
import pytest
from napari.layers import Image

from img2img.errors import UserError
from img2img_napari.layer_data import image_result_layers, layer_axes, layer_input, placement
from img2img_napari.training_data import grid_pieces, write_paired


def test_axes_of_plain_stacked_and_rgb_layers():
    assert layer_axes(Image(np.zeros((8, 9)))) == "YX"
    assert layer_axes(Image(np.zeros((3, 8, 9)))) == "ZYX"
    assert layer_axes(Image(np.zeros((2, 3, 8, 9)))) == "TZYX"
    assert layer_axes(Image(np.zeros((8, 9, 3), np.uint8), rgb=True)) == "YXC"
    with pytest.raises(ValueError, match="up to two stack axes"):
        layer_axes(Image(np.zeros((2, 2, 2, 8, 9))))


def test_current_plane_keeps_its_place_in_the_stack():
    stack = np.arange(4 * 8 * 9).reshape(4, 8, 9)
    layer = Image(stack, scale=(2.0, 0.5, 0.5), translate=(10.0, 1.0, 1.0))
    given = layer_input(layer, current_step=(2, 0, 0))
    assert given.data.shape == (1, 8, 9) and np.array_equal(given.data[0], stack[2])
    place = placement(layer, given)
    assert place["translate"] == (14.0, 1.0, 1.0) and place["scale"] == (2.0, 0.5, 0.5)
    whole = layer_input(layer)
    assert whole.data.shape == stack.shape and placement(layer, whole)["translate"] == (10.0, 1.0, 1.0)


def test_super_resolved_pixels_are_centred_on_the_input_pixels():
    layer = Image(np.zeros((8, 8)), scale=(1.0, 1.0))
    place = placement(layer, layer_input(layer), scale_factor=2)
    assert place["scale"] == (0.5, 0.5)
    # Output pixel 0 covers input [-0.5, 0): its centre is at -0.25.
    assert place["translate"] == (-0.25, -0.25)


def test_image_results_become_grey_rgb_or_one_layer_per_channel():
    place = {"scale": (1, 1), "translate": (0, 0)}
    assert image_result_layers(np.zeros((5, 6)), "YX", "r", place)[0][1]["name"] == "r"
    rgb = image_result_layers(np.zeros((3, 5, 6)), "CYX", "r", place)
    assert rgb[0][0].shape == (5, 6, 3) and rgb[0][1]["rgb"]
    two = image_result_layers(np.zeros((2, 5, 6)), "CYX", "r", place)
    assert [t[1]["name"] for t in two] == ["r_c0", "r_c1"]


def test_grid_pieces_cover_the_plane_and_respect_the_patch():
    plane = np.arange(300 * 200).reshape(300, 200)
    pieces = grid_pieces(plane, 64)
    assert len(pieces) == 9 and all(min(p.shape) >= 64 for p in pieces)
    assert sum(p.size for p in pieces) == plane.size
    assert len(grid_pieces(plane, 256)) == 1


def test_write_paired_rejects_mismatched_and_too_small_layers(tmp_path):
    image = np.zeros((128, 128), np.uint16)
    with pytest.raises(UserError, match="do not cover the same pixels"):
        write_paired((image, False, "img"), (np.zeros((100, 128), np.uint16), False, "mask"), tmp_path, 64)
    with pytest.raises(UserError, match="smaller than the 256 px patch"):
        write_paired((image, False, "img"), (image, False, "mask"), tmp_path, 256)
    with pytest.raises(UserError, match="one training image"):
        write_paired((image[:100, :100], False, "img"), (image[:100, :100], False, "mask"), tmp_path / "b", 64)
    keys = write_paired((image, False, "img"), (image, False, "mask"), tmp_path / "c", 64)
    assert len(list((tmp_path / "c" / "images").glob("*.tif"))) == 4 and set(keys) == {"input_dir", "target_dir"}


def test_hole_masks_from_labels_and_shapes_match_the_processed_planes():
    from napari.layers import Labels, Shapes

    from img2img_napari.layer_data import hole_mask

    stack = Image(np.zeros((3, 40, 50)))
    labels = np.zeros((3, 40, 50), np.uint8)
    labels[1, 5:10, 5:10] = 1
    plane = layer_input(stack, current_step=(1, 0, 0))
    assert hole_mask(Labels(labels), plane, (3, 40, 50)).shape == (1, 40, 50)
    assert hole_mask(Labels(labels), plane, (3, 40, 50)).sum() == 25
    assert hole_mask(Labels(labels[1]), layer_input(stack), (3, 40, 50)).shape == (40, 50)
    box = Shapes([np.array([[10, 10], [10, 20], [20, 20], [20, 10]])], shape_type="polygon")
    drawn = hole_mask(box, layer_input(Image(np.zeros((40, 50)))), (40, 50))
    assert drawn.shape == (40, 50) and 80 <= drawn.sum() <= 130
    with pytest.raises(ValueError, match="mask layer .* is 30x50 but the image is 3x40x50"):
        hole_mask(Labels(np.zeros((30, 50), np.uint8)), layer_input(stack), (3, 40, 50))


@pytest.mark.parametrize("kind", ["segmentation", "translation", "cyclegan", "superres", "inpaint", "colorize"])
def test_every_train_widget_kind_makes_a_valid_config(kind, tmp_path):
    from img2img_napari.train_settings import SINGLE_LAYER_KINDS, TrainSettings, training_config

    data = ({"image_dir": "x"} if kind in SINGLE_LAYER_KINDS else
            {"a_dir": "a", "b_dir": "b"} if kind == "cyclegan" else {"input_dir": "x", "target_dir": "y"})
    config = training_config(TrainSettings(kind=kind, steps=40), data, tmp_path)
    assert config.model.name == {"segmentation": "pix2pix", "translation": "pix2pix"}.get(kind, kind)
    assert config.data.num_workers == 0
