"""Super-resolution: generator shapes, the degradation pipeline, tiled x2/x4 inference on odd
sizes, bad inputs, and a short end-to-end run (synth -> train -> infer -> evaluate vs bicubic)."""

import json

import numpy as np
import pytest
import torch
import yaml

from img2img.cli import main
from img2img.config.loading import validate_config
from img2img.config.schema import DegradationConfig, TrainConfig
from img2img.data.degradation import degrade, downscale, upscale_bicubic
from img2img.data.sr_pairs import load_sr_pair
from img2img.errors import UserError
from img2img.inference.predictor import Predictor
from img2img.io.images import write_image
from img2img.models.registry import build_model
from img2img.nets.rrdb import rrdb_net
from img2img.nets.srresnet import srresnet


def sr_config(scale=2, kind="srresnet", **model):
    generator = {"kind": kind, "n_blocks": 2, "base_channels": 8}
    return TrainConfig.model_validate({
        "model": {"name": "superres", "scale": scale, "generator": generator, "discriminator": {"base_channels": 8}, **model},
        "data": {"image_dir": "unused", "patch_size": 64},
        "normalization": {"mode": "fixed", "min_value": 0, "max_value": 1000},
    })


def untrained_sr(scale=2, kind="srresnet", channels=1):
    torch.manual_seed(0)
    model = build_model(sr_config(scale, kind), channels, channels, "uint16", "uint16").eval()
    for m in model.generator.modules():  # lively weights, so tiling errors would show
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_uniform_(m.weight, a=0.2)
            m.weight.data *= 0.5
    return model


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("build", [lambda s: srresnet(3, 3, s, n_blocks=2, channels=8),
                                   lambda s: rrdb_net(3, 3, s, n_blocks=1, channels=8, growth=4)])
def test_generators_scale_odd_sizes(build, scale):
    net = build(scale)
    assert net(torch.zeros(2, 3, 13, 17)).shape == (2, 3, 13 * scale, 17 * scale)
    assert net.size_multiple == 1 and net.receptive_field > 10


def test_rrdb_has_no_batch_norm_and_starts_near_bicubic():
    net = rrdb_net(1, 1, 2, n_blocks=1, channels=8, growth=4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    x = torch.rand(1, 1, 16, 16)
    bicubic = torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    assert (net(x) - bicubic).abs().max() < 0.05


def test_downscale_area_is_block_mean_and_bicubic_keeps_flat_images():
    image = np.arange(64, dtype=np.float32).reshape(1, 8, 8)
    area = downscale(image, 2, "area")
    assert area.shape == (1, 4, 4) and np.isclose(area[0, 0, 0], image[0, :2, :2].mean())
    flat = np.full((2, 12, 12), 0.3, np.float32)
    assert np.allclose(downscale(flat, 4, "bicubic"), 0.3, atol=1e-5) and downscale(flat, 4).shape == (2, 3, 3)
    assert upscale_bicubic(area, 2).shape == (1, 8, 8)


def test_degradation_blurs_and_adds_noise_of_the_configured_share():
    rng = np.random.default_rng(0)
    hr = np.zeros((1, 64, 64), np.float32)
    hr[0, (np.arange(64) // 3) % 2 == 0] = 1.0  # stripes 3 px wide: kept by downscaling, removed by blur
    sharp = degrade(hr, 2, DegradationConfig(downscale="bicubic"), rng)
    blurred = degrade(hr, 2, DegradationConfig(downscale="bicubic", blur_sigma=2.0), rng)
    assert sharp.shape == blurred.shape == (1, 32, 32) and blurred.std() < sharp.std()
    flat = np.zeros((1, 128, 128), np.float32)
    noisy = degrade(flat, 2, DegradationConfig(noise_std=0.05), np.random.default_rng(1))
    assert abs(noisy.std() - 0.1) < 0.01  # 5% of the [-1, 1] span
    again = degrade(flat, 2, DegradationConfig(noise_std=0.05), np.random.default_rng(1))
    assert np.array_equal(noisy, again)


def test_config_checks_the_patch_against_the_scale():
    with pytest.raises(UserError, match="multiple of model.scale 4"):
        validate_config({"model": {"name": "superres", "scale": 4}, "data": {"image_dir": "x", "patch_size": 66}})
    config = validate_config({"model": {"name": "superres"}, "data": {"image_dir": "x"}})
    assert config.task == "translation" and config.data.kind == "single" and config.generator_size_multiple == 1
    with pytest.raises(UserError, match="trains on pairs"):
        validate_config({"model": {"name": "pix2pix"}, "data": {"image_dir": "x"}})
    with pytest.raises(UserError, match="share `normalization`; remove target_normalization"):
        validate_config({"model": {"name": "superres"}, "data": {"image_dir": "x"}, "target_normalization": {"mode": "dtype"}})
    with pytest.raises(UserError, match="unknown generator 'unet'"):
        validate_config({"model": {"name": "superres", "generator": {"kind": "unet"}}, "data": {"image_dir": "x"}})


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("shape", [(70, 45), (45, 101)])
def test_tiled_inference_scales_and_matches_a_whole_pass(scale, shape):
    model = untrained_sr(scale)
    image = (np.random.default_rng(0).random(shape) * 900 + 50).astype(np.uint16)
    assert 2 * model.generator.receptive_field <= 48  # the default overlap rule, here explicit for small tiles
    tiled = Predictor(model, device="cpu", tile=64, overlap=48, precision="32")
    assert tiled.scale == scale and tiled.count_tiles(shape, "YX") > 1
    out = tiled.predict(image)
    whole = Predictor(model, device="cpu", tile=256, precision="32").predict(image)
    assert out.shape == (shape[0] * scale, shape[1] * scale) and out.dtype == np.uint16
    assert np.abs(out.astype(np.int64) - whole).max() <= 2  # rounding where tiles blend


def test_inputs_smaller_than_a_tile_are_upscaled_whole():
    predictor = Predictor(untrained_sr(4), device="cpu", precision="32")
    assert predictor.tile >= 512
    for shape in [(5, 3), (1, 1), (2, 40)]:
        assert predictor.predict(np.full(shape, 300, np.uint16)).shape == (shape[0] * 4, shape[1] * 4)


def test_paired_sizes_must_differ_by_the_scale(tmp_path):
    write_image(tmp_path / "lr.tif", np.zeros((20, 20), np.uint16))
    write_image(tmp_path / "hr.tif", np.zeros((41, 40), np.uint16))
    config = sr_config(2)
    with pytest.raises(UserError, match=r"hr.tif: is 41x40 .* must be 40x40"):
        load_sr_pair(tmp_path / "lr.tif", tmp_path / "hr.tif", config)


def _write_vgg_prefix(path, last_layer=3):
    from img2img.nets.vgg_features import vgg19_layers

    torch.manual_seed(0)
    torch.save({f"features.{k}": v for k, v in vgg19_layers(last_layer).state_dict().items()}, path)
    return path


def test_feature_weights_load_from_a_file_and_bad_files_are_one_line(tmp_path):
    from img2img.nets.vgg_features import load_vgg_features

    features = load_vgg_features(_write_vgg_prefix(tmp_path / "vgg.pth"), 3)
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    assert features.distance(x, x) == 0 and features.distance(x, -x) > 0
    with pytest.raises(UserError, match="lacks 5.weight"):
        load_vgg_features(tmp_path / "vgg.pth", 8)
    with pytest.raises(UserError, match="no such file"):
        load_vgg_features(tmp_path / "missing.pth", 3)


@pytest.mark.slow
def test_superres_trains_infers_tiled_and_evaluates_against_bicubic(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "denoise", "--output", str(data), "--n", "4", "--size", "48"]) == 0
    config = tmp_path / "sr.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"name": "superres", "scale": 2, "generator": {"n_blocks": 1, "base_channels": 8},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pretrain_steps": 2,
                  "degradation": {"blur_sigma": 0.5, "noise_std": 0.01},
                  "feature_weights": str(_write_vgg_prefix(tmp_path / "vgg.pth")), "feature_layer": 3},
        "data": {"image_dir": str(data / "targets"), "patch_size": 32, "batch_size": 2, "patches_per_image": 1,
                 "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": 600},
        "schedule": {"steps": 4}, "trainer": {"val_every_steps": 2, "log_every_steps": 1},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(config)]) == 0
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    state = torch.load(best, weights_only=True)["state_dict"]
    assert not any(k.startswith("_features") or k.startswith("features") for k in state)
    header = (tmp_path / "run" / "logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    assert "train/loss_features" in header and "train/loss_g_gan" in header  # adversarial after 2 pre-training steps

    out = tmp_path / "out"
    assert main(["infer", str(data / "images"), "--model", str(best), "--output", str(out), "--tile", "16"]) == 0
    import tifffile

    assert tifffile.imread(out / "denoise_0000.tif").shape == (96, 96)

    report = tmp_path / "eval"
    assert main(["evaluate", "--model", str(best), "--input", str(data / "targets"), "--output", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["methods"] == ["model", "bicubic"] and len(metrics["per_image"]) == 4
    assert "border of 2 px" in (report / "report.md").read_text() and "bicubic upscaling" in capsys.readouterr().out
