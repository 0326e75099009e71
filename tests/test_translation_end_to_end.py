"""synth denoise -> train (ResNet generator, task translation) -> evaluate through the CLI, and
checkpoints from before translation and generator kinds still load."""

import json

import pytest
import torch
import yaml

from img2img.cli import main
from img2img.models.checkpoint import load_model

pytestmark = pytest.mark.slow


def test_denoising_trains_and_evaluates_against_baselines(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "denoise", "--output", str(data), "--n", "4", "--size", "48"]) == 0
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "task": "translation",
        "model": {"generator": {"kind": "resnet", "n_blocks": 1, "base_channels": 8}, "discriminator": {"base_channels": 8}},
        "data": {"input_dir": str(data / "images"), "target_dir": str(data / "targets"), "patch_size": 32,
                 "batch_size": 2, "patches_per_image": 1, "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": 600},
        "schedule": {"steps": 4}, "trainer": {"val_every_steps": 2},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(config)]) == 0
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    hp = torch.load(best, weights_only=True)["hyper_parameters"]
    assert hp["target_dtype"] == "uint16" and hp["out_channels"] == 1 and hp["config"]["model"]["generator"]["kind"] == "resnet"
    assert "val/psnr" in (tmp_path / "run" / "logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]

    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(best), "--input", str(data / "images"), "--target", str(data / "targets"),
                 "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["methods"] == ["model", "input", "gaussian", "nl_means"] and len(metrics["per_image"]) == 4
    assert metrics["data_range"].startswith("100..600") and "PSNR (dB)" in (out / "report.md").read_text()
    assert metrics["summary"]["gaussian"]["psnr"] > metrics["summary"]["input"]["psnr"]
    assert "gaussian filter" in capsys.readouterr().out and (out / "figure.png").stat().st_size > 1000


def test_checkpoints_without_target_dtype_or_generator_kind_still_load(trained, tmp_path):
    checkpoint = torch.load(trained / "checkpoints" / "last.ckpt", weights_only=True)
    hp = checkpoint["hyper_parameters"]
    hp.pop("target_dtype", None)
    hp["config"]["model"]["generator"].pop("kind", None)
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    model = load_model(old)
    assert model.config.model.generator.kind == "unet" and model.hparams.get("target_dtype") is None
