"""Model cards: what `img2img info` shows for any checkpoint, and the training facts (data counts,
steps, device, time, validation metrics beside a classical baseline's) that training writes."""

import json

import numpy as np
import pytest
import torch

from img2img.cli import main
from img2img.config.schema import TrainConfig
from img2img.models.card import card_line, card_text, model_card
from img2img.models.checkpoint import read_checkpoint
from img2img.training.model_card import baseline_metrics
from tests.model_builders import save_checkpoint, untrained_kind


def test_a_checkpoint_without_training_facts_shows_its_config(tmp_path, capsys):
    checkpoint = save_checkpoint(untrained_kind("superres"), tmp_path / "sr.ckpt")
    card = model_card(read_checkpoint(checkpoint))
    assert card["model"] == "superres" and card["scale"] == 2 and card["channels"]["in"] == 1
    assert card["pixel_types"] == {"input": "uint16", "target": "uint16"}
    assert card["normalization"] == "fixed 0.0..1000.0 -> [-1, 1]"
    assert card["training_data"] == {"image_dir": "unused"}
    assert "training: not recorded" in card_text(card)
    assert main(["info", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "model: superres" in out and "generator: srresnet (n_blocks 2, base_channels 8)" in out
    assert main(["info", str(checkpoint), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps_planned"] == 2000
    assert main(["info", str(tmp_path / "missing.ckpt")]) == 2


def _batch(size=64, scale=2, seed=0):
    """A validation batch of a smooth image (normalized to [-1, 1]) and its downscaled input."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    clean = np.sin(6 * x + 2 * y + rng.random()) * np.cos(5 * y) * 0.8
    target = torch.from_numpy(clean.astype(np.float32))[None, None]
    low = torch.nn.functional.avg_pool2d(target, scale)
    return {"input": low, "target": target, "size": [torch.tensor([size // scale, size // scale])]}


class _Validation:
    def __init__(self, batches):
        self.batches = batches

    def val_dataloader(self):
        return self.batches


def test_restoration_baselines_are_scored_like_the_model():
    config = TrainConfig.model_validate({"model": {"name": "superres", "scale": 2}, "data": {"image_dir": "x", "patch_size": 64}})
    bicubic = baseline_metrics(config, _Validation([_batch(seed=s) for s in range(3)]))
    assert bicubic["name"] == "bicubic upscaling" and bicubic["images"] == 3 and bicubic["psnr"] > 30
    config = TrainConfig.model_validate({"task": "translation", "model": {"name": "pix2pix"},
                                         "data": {"input_dir": "a", "target_dir": "b", "patch_size": 64}})
    batch = _batch(scale=1)
    batch["input"] = batch["target"] + 0.1  # the identity baseline is off by 0.05 on [0, 1]: PSNR 26 dB
    identity = baseline_metrics(config, _Validation([batch]))
    assert identity["name"] == "input itself" and identity["psnr"] == pytest.approx(26.02, abs=0.05)
    cycle = TrainConfig.model_validate({"model": {"name": "cyclegan"}, "data": {"a_dir": "a", "b_dir": "b", "patch_size": 64}})
    assert baseline_metrics(cycle, _Validation([])).get("psnr") is None


@pytest.mark.slow
def test_training_writes_data_steps_device_time_metrics_and_baseline(trained, capsys):
    checkpoint = read_checkpoint(trained / "checkpoints" / "best.ckpt")
    facts = model_card(checkpoint)["training"]
    assert facts["steps"] > 0 and facts["training_seconds"] > 0 and "CPU" in facts["device"]
    assert facts["data"]["train_images"] + facts["data"]["val_images"] == 6
    assert "f1" in facts["validation"] and facts["best_metric"] == "f1"
    assert facts["baseline"]["name"] == "Otsu + watershed" and 0 <= facts["baseline"]["f1"] <= 1
    last = model_card(read_checkpoint(trained / "checkpoints" / "last.ckpt"))["training"]
    assert last["steps"] == 6
    assert "f1" in card_line(model_card(checkpoint))
    assert main(["info", str(trained / "checkpoints" / "last.ckpt")]) == 0
    out = capsys.readouterr().out
    assert "baseline:" in out and "name: Otsu + watershed" in out and "steps: 6" in out


def test_training_time_adds_up_over_resumed_runs():
    from img2img.training.model_card import ModelCardRecorder

    class _Data:
        train_files, val_files = [1, 2, 3], [4]

    config = TrainConfig.model_validate({"model": {"name": "pix2pix"}, "data": {"input_dir": "a", "target_dir": "b"}})
    first = ModelCardRecorder(config, _Data())
    assert first.data == {"train_images": 3, "val_images": 1}
    state = {"seconds": 125.0, "baseline": {"name": "Otsu + watershed", "f1": 0.5}}
    resumed = ModelCardRecorder(config, _Data())
    resumed.load_state_dict(state)
    assert resumed.seconds() == 125.0 and resumed.baseline["f1"] == 0.5  # the baseline is not recomputed
    resumed.started = __import__("time").perf_counter() - 5.0
    assert 130.0 <= resumed.state_dict()["seconds"] < 131.0


def test_the_builtin_model_card_has_its_measured_scores_beside_the_baseline(capsys):
    assert main(["info", "builtin:nuclei"]) == 0
    out = capsys.readouterr().out
    assert "input_channels: rgb" in out and "object_diameter_px: 24" in out
    assert "test:" in out and "f1: 0.837" in out and "name: Otsu + watershed" in out and "f1: 0.713" in out
    assert "12000 steps" in card_line(model_card(read_checkpoint("builtin:nuclei")))
