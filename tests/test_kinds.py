"""The kind registry (img2img/kinds/): every registered kind is complete and every front door reads
it; Noise2Void, added through it alone, trains from noisy images, infers and is evaluated."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from img2img.cli import main
from img2img.config import validate_config
from img2img.data.synthetic import write_synthetic_dataset
from img2img.errors import UserError
from img2img.evaluation.translation import fit_to_target, image_quality
from img2img.kinds import KINDS, get_kind, load
from img2img.kinds.n2v.examples import BlindSpotExamples
from img2img.models.base import ImageModule
from img2img.models.gan_base import GanModule


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_declares_what_the_front_doors_read(name):
    kind = KINDS[name]
    assert kind.config.model_fields["name"].default == name
    module = kind.module_class()
    assert issubclass(module, ImageModule)
    assert kind.data and set(kind.data) <= {"paired", "unpaired", "single"}
    if "single" in kind.data:  # inputs made from one folder of images: the kind says how
        assert kind.examples is not None and load(kind.examples)
    for reference in filter(None, (kind.evaluator, kind.data_check, kind.paired_data)):
        assert callable(load(reference))
    assert kind.presets, "every kind has an entry in the napari Train widget"
    assert kind.metric("translation").startswith("val/")


def test_unknown_kind_is_one_line():
    with pytest.raises(UserError, match=r"unknown model 'vae'; choose from \[.*'n2v'.*\]"):
        get_kind("vae")


def test_noise2void_is_a_single_optimizer_module():
    assert not issubclass(get_kind("n2v").module_class(), GanModule)
    assert issubclass(get_kind("pix2pix").module_class(), GanModule)


def n2v_config(images, out, steps=6, **model):
    return validate_config({
        "model": {"name": "n2v", "generator": {"depth": 3, "base_channels": 8}, **model},
        "data": {"image_dir": str(images), "patch_size": 32, "batch_size": 2, "patches_per_image": 2,
                 "val_fraction": 0.25, "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": 600},
        "augmentation": {"brightness_contrast": 0.0, "gamma": 0.0, "blur": 0.0, "noise": 0.0},
        "schedule": {"steps": steps}, "trainer": {"accelerator": "cpu", "val_every_steps": 3, "precision": "32",
                                                 "samples": 1, "ema_decay": 0.9},
        "output_dir": str(out),
    })


def test_n2v_config_rules(tmp_path):
    config = n2v_config(tmp_path, tmp_path / "out")
    assert config.task == "translation" and config.data.kind == "single"
    assert (config.best_metric, config.best_mode) == ("val/loss", "min")
    assert config.optimizer.beta1 == 0.9  # the kind's optimizer default; GANs keep 0.5
    assert validate_config({"data": {"input_dir": "a", "target_dir": "b"}}).optimizer.beta1 == 0.5
    with pytest.raises(UserError, match="model n2v learns from noisy images alone: give data.image_dir"):
        validate_config({"model": {"name": "n2v"}, "data": {"input_dir": "a", "target_dir": "b"}})
    with pytest.raises(UserError, match="neighbourhood 4: give an odd window side"):
        n2v_config(tmp_path, tmp_path / "out", neighbourhood=4)
    with pytest.raises(UserError, match="set task: translation"):
        validate_config({"model": {"name": "n2v"}, "task": "segmentation", "data": {"image_dir": "a"}})
    # A partial generator section keeps the denoiser's defaults (shallow, no dropout), not Pix2Pix's.
    partial = validate_config({"model": {"name": "n2v", "generator": {"base_channels": 16}}, "data": {"image_dir": "a"}})
    assert (partial.generator_depth, partial.model.generator.dropout, partial.model.generator.upsample) == (3, 0.0, "bilinear")
    assert validate_config({"model": {"name": "n2v", "generator": {"depth": 5}}, "data": {"image_dir": "a"}}).generator_depth == 5


def test_blind_spot_examples_hide_a_share_of_pixels_behind_neighbours(tmp_path):
    config = n2v_config(tmp_path, tmp_path / "out", masked_fraction=0.04, neighbourhood=5)  # one pixel per 5x5 cell
    noisy = np.random.default_rng(0).normal(size=(1, 100, 100)).astype(np.float32)
    example = BlindSpotExamples(config).make(noisy, np.random.default_rng(1))
    mask = example["mask"][0] > 0
    assert mask.sum() == 400  # one per cell, spread over the whole crop
    assert np.array_equal(example["target"], noisy)
    assert np.array_equal(example["input"][:, ~mask], noisy[:, ~mask])
    ys, xs = np.nonzero(mask)
    for y, x in zip(ys[:50], xs[:50]):  # each hidden value is another pixel's from its 5x5 window
        window = noisy[0, max(0, y - 2): y + 3, max(0, x - 2): x + 3]
        assert example["input"][0, y, x] in window and example["input"][0, y, x] != noisy[0, y, x]


@pytest.mark.slow
def test_n2v_trains_from_noisy_images_alone_infers_and_evaluates(tmp_path):
    write_synthetic_dataset("denoise", tmp_path / "train", n=4, size=64, progress=False)
    write_synthetic_dataset("denoise", tmp_path / "test", n=2, size=64, seed=1, progress=False)
    from img2img.training import train

    config = n2v_config(tmp_path / "train/images", tmp_path / "run")  # the clean targets/ are never read
    best = train(config, progress=False)
    checkpoint = torch.load(tmp_path / "run/checkpoints/last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 6  # one optimizer step per training step: no padding steps
    assert checkpoint["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]["processed"] == 6
    assert len(checkpoint["optimizer_states"]) == 1
    assert sorted(p.name for p in (tmp_path / "run/samples").iterdir()) == ["step_000003.png", "step_000006.png"]

    assert main(["infer", str(tmp_path / "test/images"), "--model", str(best), "--output", str(tmp_path / "out")]) == 0
    result = tifffile.imread(next((tmp_path / "out").iterdir()))
    assert result.dtype == np.uint16 and result.shape == (64, 64)
    assert main(["evaluate", "--model", str(best), "--input", str(tmp_path / "test/images"),
                 "--target", str(tmp_path / "test/targets"), "--output", str(tmp_path / "eval")]) == 0
    import json

    summary = json.loads((tmp_path / "eval/metrics.json").read_text())["summary"]
    assert set(summary) == {"model", "input", "gaussian", "nl_means"}
    assert {"psnr", "ssim", "psnr_si", "ssim_si"} <= set(summary["model"])


def test_scale_invariant_scores_ignore_a_brightness_change():
    truth = np.random.default_rng(0).uniform(100, 600, (1, 48, 48)).astype(np.float32)
    brighter = 1.5 * truth + 40
    np.testing.assert_allclose(fit_to_target(brighter, truth), truth, rtol=1e-4)
    lo, hi = np.array([100.0]), np.array([600.0])
    scores = image_quality(brighter, truth, lo, hi)
    assert scores["psnr"] < 15 and scores["psnr_si"] > 60 and scores["ssim_si"] > 0.999


def test_a_fixed_range_that_cuts_the_targets_is_one_line(tmp_path):
    write_synthetic_dataset("filaments", tmp_path / "fil", n=3, size=96, progress=False)
    from img2img.data.select import build_datamodule

    config = validate_config({
        "task": "translation", "model": {"generator": {"base_channels": 8, "depth": 3}, "discriminator": {"n_layers": 2}},
        "data": {"input_dir": str(tmp_path / "fil/images"), "target_dir": str(tmp_path / "fil/targets"),
                 "patch_size": 32, "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": 300},
    })
    with pytest.raises(UserError, match=r"normalization.max_value 300 cuts .*% of the training targets' pixels"):
        build_datamodule(config, progress=False)
