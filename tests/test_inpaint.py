"""Inpainting: gated generator shapes, mask generators and rules, exact copy-back of known
pixels (model and tiled Predictor), mask files and their errors, and a short end-to-end run."""

import json

import numpy as np
import pytest
import torch
import yaml
from scipy import ndimage

from img2img.cli import main
from img2img.config.schema import MaskConfig, TrainConfig
from img2img.data.masks import parse_rules, random_mask, rule_mask
from img2img.errors import UserError
from img2img.inference.masks import HoleMasks
from img2img.inference.predictor import Predictor
from img2img.io.images import write_image
from img2img.models.registry import build_model
from img2img.nets.gated import GatedInpaintNet

from tests.model_builders import untrained


def untrained_inpaint(channels=1):
    config = TrainConfig.model_validate({
        "model": {"name": "inpaint", "generator": {"base_channels": 8, "n_dilated": 2}, "discriminator": {"base_channels": 8}},
        "data": {"image_dir": "unused", "patch_size": 64},
        "normalization": {"mode": "fixed", "min_value": 0, "max_value": 1000},
    })
    torch.manual_seed(0)
    model = build_model(config, channels, channels, "uint16", "uint16").eval()
    for m in model.generator.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_uniform_(m.weight, a=0.2)
    return model


def test_gated_net_shapes_and_receptive_field():
    net = GatedInpaintNet(3, base_channels=8, n_dilated=4)
    out = net(torch.rand(2, 3, 64, 48), torch.zeros(2, 1, 64, 48))
    assert out.shape == (2, 3, 64, 48) and net.size_multiple == 4 and net.receptive_field > 200


def test_the_signal_keeps_its_size_through_the_gated_layers():
    """With PyTorch's default init it fell ~40x through encoder and middle (std 0.5 -> 0.012), the
    first layer's gradient was 1e-8 of the last's, and 1500 steps learned nothing."""
    torch.manual_seed(0)
    net = GatedInpaintNet(1, base_channels=16, n_dilated=3)
    x = torch.cat([torch.randn(2, 1, 96, 96) * 0.5, (torch.rand(2, 1, 96, 96) > 0.7).float()], 1)
    for layer in [*net.encoder, *net.middle]:
        x = layer(x)
    assert x.std() > 0.1


def test_the_network_starts_from_the_biharmonic_fill_and_changes_only_holes():
    from skimage.restoration import inpaint_biharmonic
    from img2img.nets.smooth_fill import biharmonic_fill

    yy, xx = np.mgrid[0:48, 0:40] / 40.0
    image = np.stack([np.sin(3 * yy) * np.cos(2 * xx), yy * xx]).astype(np.float32)  # 2 smooth channels
    holes = np.zeros((48, 40), bool)
    holes[10:22, 8:30] = True
    expected = inpaint_biharmonic(np.where(holes, 0, image).transpose(1, 2, 0), holes, channel_axis=-1).transpose(2, 0, 1)
    x, m = torch.from_numpy(np.where(holes, 0, image))[None], torch.from_numpy(holes.astype(np.float32))[None, None]
    filled = biharmonic_fill(x, m)[0].numpy()
    np.testing.assert_allclose(filled, expected, atol=1e-5)
    assert np.array_equal(filled[:, ~holes], image[:, ~holes]) and np.abs(filled - image)[:, holes].max() < 0.05
    assert biharmonic_fill(x, torch.ones_like(m)).abs().max() == 0  # nothing known: mid-grey, no error
    net = GatedInpaintNet(2, base_channels=8, n_dilated=2)  # untrained: last layer near zero
    out = net(x, m)[0].detach().numpy()
    assert np.array_equal(out[:, ~holes], image[:, ~holes]) and np.abs(out - expected).max() < 0.05


def test_strokes_have_the_configured_width_and_boxes_are_rectangles():
    rng = np.random.default_rng(0)
    strokes = random_mask((256, 256), MaskConfig(strokes=(1, 1), stroke_width=(20, 20), box_probability=0.0), rng)
    assert set(np.unique(strokes)) == {0.0, 1.0} and 0.01 < strokes.mean() < 0.6
    assert 8 <= ndimage.distance_transform_edt(strokes).max() <= 20  # half the width (more where a stroke crosses itself)
    box = random_mask((128, 96), MaskConfig(box_probability=1.0, both_probability=0.0, box_size=(10, 30)), rng)
    rows, cols = np.nonzero(box)
    assert box.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1) and 10 <= np.ptp(rows) + 1 <= 30
    again = random_mask((64, 64), MaskConfig(), np.random.default_rng(5))
    assert np.array_equal(again, random_mask((64, 64), MaskConfig(), np.random.default_rng(5)))


def test_mask_rules_find_saturated_zero_pixels_and_dead_lines():
    rng = np.random.default_rng(1)
    image = rng.integers(1, 250, (1, 20, 30)).astype(np.uint8)
    image[0, 3, 4] = 255
    image[0, 10, 10] = 0
    image[0, 7, :] = 0  # a dead row
    image[0, :, 20] = 0  # a stitching seam of zeros
    assert rule_mask(image, ("saturated",)).sum() == 1
    dead = rule_mask(image, ("dead-lines",))
    assert dead[7].all() and dead[:, 20].all() and dead.sum() == 30 + 20 - 1
    assert rule_mask(image, ("zero",))[10, 10] and parse_rules("zero, saturated") == ("zero", "saturated")
    with pytest.raises(UserError, match="unknown rule 'hot'"):
        parse_rules("saturated,hot")


def test_known_pixels_are_copied_back_exactly_through_tiles():
    model = untrained_inpaint()
    image = np.random.default_rng(0).integers(50, 950, (70, 45)).astype(np.uint16)
    holes = random_mask(image.shape, MaskConfig(stroke_width=(4, 8)), np.random.default_rng(2)) > 0
    x = torch.from_numpy(np.stack([image / 500 - 1, holes]).astype(np.float32))[None]
    assert torch.equal(model(x)[0, 0][~torch.from_numpy(holes)], x[0, 0][~torch.from_numpy(holes)])
    out = Predictor(model, device="cpu", tile=32, overlap=8, precision="32").predict(image, mask=holes)
    assert out.shape == image.shape and out.dtype == np.uint16
    assert np.array_equal(out[~holes], image[~holes]) and not np.array_equal(out[holes], image[holes])


def test_mask_files_match_by_name_and_wrong_sizes_name_the_file(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((10, 12), np.uint8))
    masks = HoleMasks(tmp_path, None, needed=True)
    with pytest.raises(UserError, match=r"a.png: mask is 10x12 but its image a.tif is 10x13"):
        masks.from_file(tmp_path / "images" / "a.tif", (10, 13), "YX")
    with pytest.raises(UserError, match="no mask named b.*--mask-rule"):
        masks.from_file(tmp_path / "b.tif", (10, 12), "YX")
    write_image(tmp_path / "cells.tif", np.eye(10, 12, dtype=np.uint8))  # an OME-Zarr image's mask: cells.*
    cells = HoleMasks(tmp_path, None, needed=True).from_file(tmp_path / "cells.ome.zarr", (10, 12), "YX")
    assert np.array_equal(cells, np.eye(10, 12, dtype=bool))
    with pytest.raises(UserError, match="needs a mask"):
        HoleMasks(None, None, needed=True).for_plane(np.zeros((1, 4, 4)), None)
    with pytest.raises(UserError, match="only inpainting models take masks"):
        Predictor(untrained(), device="cpu", mask_rule="zero")
    predictor = Predictor(untrained_inpaint(), device="cpu", precision="32")
    with pytest.raises(UserError, match="mask is 3x3 but the image is 4x4"):
        predictor.predict(np.ones((4, 4), np.uint16), mask=np.ones((3, 3)))


@pytest.mark.slow
def test_inpaint_trains_fills_with_mask_files_and_rules_and_evaluates(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "denoise", "--output", str(data), "--n", "4", "--size", "48"]) == 0
    config = tmp_path / "inpaint.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"name": "inpaint", "generator": {"base_channels": 8, "n_dilated": 1},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pretrain_steps": 2,
                  "masks": {"stroke_width": [4, 8], "box_size": [4, 12]}},
        "data": {"image_dir": str(data / "targets"), "patch_size": 32, "batch_size": 2, "patches_per_image": 1,
                 "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": 600},
        "schedule": {"steps": 4}, "trainer": {"val_every_steps": 2, "log_every_steps": 1},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(config)]) == 0
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    assert "train/loss_g_gan" in (tmp_path / "run" / "logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]

    import tifffile

    source = tifffile.imread(data / "targets" / "denoise_0000.tif")
    masks = tmp_path / "masks"
    masks.mkdir()
    hole = np.zeros_like(source, dtype=np.uint8)
    hole[10:20, 5:30] = 255
    for name in ("denoise_0000", "denoise_0001", "denoise_0002", "denoise_0003"):
        write_image(masks / f"{name}.png", hole)
    out = tmp_path / "out"
    assert main(["infer", str(data / "targets"), "--model", str(best), "--output", str(out), "--mask", str(masks),
                 "--tile", "32", "--overlap", "8"]) == 0
    filled = tifffile.imread(out / "denoise_0000.tif")
    assert filled.dtype == np.uint16 and np.array_equal(filled[hole == 0], source[hole == 0])
    assert main(["infer", str(data / "targets"), "--model", str(best), "--output", str(tmp_path / "out2"),
                 "--mask-rule", "saturated,zero,dead-lines"]) == 0
    write_image(masks / "denoise_0001.png", hole[:20])
    assert main(["infer", str(data / "targets"), "--model", str(best), "--output", str(tmp_path / "out3"),
                 "--mask", str(masks)]) == 1
    assert "denoise_0001.png: mask is 20x48 but its image denoise_0001.tif is 48x48" in capsys.readouterr().err

    report = tmp_path / "eval"
    assert main(["evaluate", "--model", str(best), "--input", str(data / "targets"), "--output", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["methods"] == ["model", "telea", "biharmonic"] and metrics["metrics"] == ["psnr", "ssim", "l1"]
    assert "inside the holes only" in (report / "report.md").read_text()
