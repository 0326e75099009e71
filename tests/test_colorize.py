"""Colorization / virtual staining: YUV on normalized images, the input kept as luminance,
free channel counts, clear errors for gray targets, and a short end-to-end run."""

import json

import numpy as np
import pytest
import torch
import yaml

from img2img.cli import main
from img2img.config.loading import validate_config
from img2img.config.schema import TrainConfig
from img2img.data.color import RGB_TO_YUV, colorfulness, rgb_to_yuv, yuv_to_rgb, yuv_to_rgb_torch
from img2img.errors import UserError
from img2img.inference.predictor import Predictor
from img2img.io.images import write_image
from img2img.models.registry import build_model


def colorize_model(keep_luminance=True, in_channels=1, out_channels=3):
    config = TrainConfig.model_validate({
        "model": {"name": "colorize", "keep_luminance": keep_luminance, "generator": {"depth": 3, "base_channels": 8},
                  "discriminator": {"base_channels": 8}},
        "data": {"input_dir": "a", "target_dir": "b", "patch_size": 64}, "normalization": {"mode": "dtype"},
    })
    torch.manual_seed(0)
    return build_model(config, in_channels, out_channels, "uint8", "uint8").eval()


def test_yuv_round_trip_and_luminance_commutes_with_normalization():
    rgb = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    assert np.allclose(yuv_to_rgb(rgb_to_yuv(rgb)), rgb, atol=1e-5)
    assert np.allclose(rgb_to_yuv(2 * rgb - 1)[0], 2 * rgb_to_yuv(rgb)[0] - 1, atol=1e-5)  # Y of scaled = scaled Y
    assert np.allclose(RGB_TO_YUV[1:].sum(1), 0, atol=1e-4)  # gray has no chroma
    assert colorfulness(np.full((3, 4, 4), 90.0)) == 0 and colorfulness(rgb * 255) > 10
    y, uv = torch.rand(1, 1, 4, 4), torch.zeros(1, 2, 4, 4)
    assert torch.allclose(yuv_to_rgb_torch(y, uv), y.expand(1, 3, 4, 4), atol=1e-5)


def test_the_output_keeps_the_input_as_luminance_through_tiles():
    model = colorize_model()
    gray = np.random.default_rng(0).integers(0, 256, (70, 45)).astype(np.uint8)
    x = torch.from_numpy(gray / 127.5 - 1).float()[None, None][..., :64, :40]
    rgb = model(x)
    assert rgb.shape == (1, 3, 64, 40)
    assert torch.allclose(torch.einsum("j,bjhw->bhw", torch.tensor(RGB_TO_YUV[0]), rgb), x[:, 0], atol=1e-4)
    out = Predictor(model, device="cpu", tile=32, overlap=8, precision="32").predict(gray)
    assert out.shape == (3, 70, 45) and out.dtype == np.uint8  # a gray YX input gets a leading C axis
    luminance = rgb_to_yuv(out.astype(np.float32))[0]
    assert np.abs(luminance - gray).mean() < 1.5  # rounding, and clipping of saturated colours


def test_virtual_staining_takes_free_channel_counts():
    model = colorize_model(keep_luminance=False, in_channels=2, out_channels=4)
    assert model(torch.zeros(1, 2, 32, 32)).shape == (1, 4, 32, 32)
    with pytest.raises(UserError, match="keep_luminance false .* learns from pairs"):
        validate_config({"model": {"name": "colorize", "keep_luminance": False}, "data": {"image_dir": "x"}})


def test_a_gray_target_is_a_one_line_error_naming_the_file(tmp_path):
    from img2img.config.loading import validate_config
    from img2img.data.select import build_datamodule

    for i in range(2):
        write_image(tmp_path / "gray" / f"g{i}.png", np.full((40, 40), 100 + i, np.uint8))
    config = validate_config({"model": {"name": "colorize"}, "data": {"image_dir": str(tmp_path / "gray"), "patch_size": 32}})
    with pytest.raises(UserError, match=r"g[01].png: has 1 channel\(s\) but colorize .* needs RGB"):
        build_datamodule(config, progress=False)
    config = validate_config({"model": {"name": "colorize"}, "data": {
        "input_dir": str(tmp_path / "gray"), "target_dir": str(tmp_path / "gray"), "patch_size": 32}})
    with pytest.raises(UserError, match=r"gray/g[01].png: has 1 channel\(s\)"):
        build_datamodule(config, progress=False)


@pytest.mark.slow
def test_colorize_trains_infers_and_evaluates_against_gray_and_mean_chroma(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "fins", "--output", str(data), "--n", "4", "--size", "64"]) == 0
    config = tmp_path / "colorize.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"name": "colorize", "generator": {"depth": 3, "base_channels": 8},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pretrain_steps": 2},
        "data": {"image_dir": str(data / "images"), "patch_size": 32, "batch_size": 2, "patches_per_image": 1,
                 "num_workers": 0},
        "normalization": {"mode": "dtype"},
        "schedule": {"steps": 4}, "trainer": {"val_every_steps": 2, "log_every_steps": 1},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(config)]) == 0
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    assert "train/loss_g_gan" in (tmp_path / "run" / "logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]

    gray = tmp_path / "gray"
    write_image(gray / "a.png", np.random.default_rng(0).integers(0, 256, (50, 37)).astype(np.uint8))
    assert main(["infer", str(gray), "--model", str(best), "--output", str(tmp_path / "out"), "--tile", "32"]) == 0
    import tifffile

    assert tifffile.imread(tmp_path / "out" / "a.tif").shape == (3, 50, 37)

    report = tmp_path / "eval"
    assert main(["evaluate", "--model", str(best), "--input", str(data / "images"), "--output", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["methods"] == ["model", "gray", "mean_chroma"] and {"psnr_si", "ssim_si", "colorfulness"} <= set(metrics["metrics"])
    assert metrics["summary"]["gray"]["colorfulness"] == 0 and "gray + mean chroma" in capsys.readouterr().out
