"""task: translation: config, pair loading, datasets, synthetic denoising data and metrics."""

import numpy as np
import pytest
import tifffile
import torch

from img2img.config.loading import validate_config
from img2img.data.datasets import PatchDataset, WholeImageDataset
from img2img.data.loading import load_pair
from img2img.data.augmentation import PairedAugmentation
from img2img.data.synthetic import render_denoising, write_synthetic_dataset
from img2img.errors import UserError
from img2img.evaluation.denoising_baselines import gaussian, nl_means
from img2img.evaluation.translation import image_quality


def config(**extra):
    return validate_config({"data": {"input_dir": "a", "target_dir": "b", "patch_size": 32}, **extra})


def test_task_picks_the_checkpoint_metric_and_target_normalization():
    seg = config()
    assert seg.best_metric == "val/f1" and seg.target_norm == seg.normalization
    tr = config(task="translation", target_normalization={"mode": "fixed", "min_value": 0, "max_value": 10})
    assert tr.best_metric == "val/psnr" and tr.target_norm.mode == "fixed" and tr.normalization.mode == "percentile"
    with pytest.raises(UserError, match="foreground_weight"):
        config(task="translation", model={"foreground_weight": 5})


def test_generator_kind_defaults_to_unet_and_sets_the_size_multiple():
    old = config(model={"generator": {"depth": 3}})  # configs and checkpoints without `kind`
    assert old.model.generator.kind == "unet" and old.generator_size_multiple == 8
    res = validate_config({"data": {"input_dir": "a", "target_dir": "b", "patch_size": 36},
                           "model": {"generator": {"kind": "resnet", "n_blocks": 6}}})
    assert res.generator_size_multiple == 4 and res.model.generator.norm == "instance"
    with pytest.raises(UserError, match="multiple of 4"):
        validate_config({"data": {"input_dir": "a", "target_dir": "b", "patch_size": 34}, "model": {"generator": {"kind": "resnet"}}})
    with pytest.raises(UserError, match=r"model.generator.depth.*did you mean 'model.generator.n_blocks'"):
        config(model={"generator": {"kind": "resnet", "depth": 3, "n_block": 2}})


def _pair(tmp_path, target_shape, dtype=np.uint16):
    tifffile.imwrite(tmp_path / "x.tif", np.arange(32 * 40, dtype=np.uint16).reshape(32, 40))
    tifffile.imwrite(tmp_path / "y.tif", np.full(target_shape, 7, dtype))
    return tmp_path / "x.tif", tmp_path / "y.tif"


def test_translation_pairs_normalize_and_clip_targets(tmp_path):
    x, y = _pair(tmp_path, (3, 32, 40), np.uint8)
    cfg = config(task="translation", target_normalization={"mode": "fixed", "min_value": 0, "max_value": 5})
    pair = load_pair(x, y, cfg)
    assert pair.labels is None and pair.target_dtype == "uint8" and pair.input_dtype == "uint16"
    assert pair.target.shape == (3, 32, 40) and pair.target.max() == 1.0  # 7 > max_value: clipped to tanh's range
    patches = PatchDataset([pair], PairedAugmentation(cfg.augmentation, 16), 2, 16, foreground_crops=0.5)
    assert patches[0]["target"].shape == (3, 16, 16)
    item = WholeImageDataset([pair], 16)[0]
    assert "labels" not in item and item["target"].shape == (3, 32, 48)


def test_target_of_another_size_is_a_one_line_error_naming_it(tmp_path):
    x, y = _pair(tmp_path, (32, 41))
    with pytest.raises(UserError) as err:
        load_pair(x, y, config(task="translation"))
    assert str(err.value).startswith(str(y)) and "32x41" in str(err.value) and "\n" not in str(err.value)


def test_synthetic_denoising_pairs(tmp_path):
    noisy, clean = render_denoising(np.random.default_rng([0, 1]), (64, 64))
    again, _ = render_denoising(np.random.default_rng([0, 1]), (64, 64))
    assert noisy.dtype == clean.dtype == np.uint16 and noisy.shape == clean.shape == (64, 64)
    assert np.array_equal(noisy, again) and clean.min() >= 100 and np.abs(noisy.astype(int) - clean).mean() > 5
    write_synthetic_dataset("denoise", tmp_path, n=2, size=48, progress=False)
    assert sorted(p.name for p in (tmp_path / "targets").iterdir()) == ["denoise_0000.tif", "denoise_0001.tif"]
    assert tifffile.imread(tmp_path / "images" / "denoise_0001.tif").shape == (48, 48)


def test_classical_denoisers_beat_the_raw_input_in_psnr():
    noisy, clean = render_denoising(np.random.default_rng([2, 0]), (96, 96))
    lo, hi = np.array([100.0], np.float32), np.array([600.0], np.float32)
    truth = clean[None].astype(np.float32)
    raw = image_quality(noisy[None], truth, lo, hi)
    assert image_quality(truth, truth, lo, hi)["ssim"] > 0.999
    for denoise in (gaussian, nl_means):
        assert image_quality(denoise(noisy[None]), truth, lo, hi)["psnr"] > raw["psnr"] + 3


def test_pix2pix_builds_the_chosen_generator():
    from img2img.models.registry import build_model
    from img2img.nets import ResNetGenerator

    cfg = validate_config({"data": {"input_dir": "a", "target_dir": "b", "patch_size": 36}, "task": "translation",
                           "model": {"generator": {"kind": "resnet", "n_blocks": 2, "base_channels": 8},
                                     "discriminator": {"base_channels": 8}}})
    model = build_model(cfg, 1, 3, "uint16", "uint8")
    assert isinstance(model.generator, ResNetGenerator) and model.size_multiple == 4
    assert model.hparams["target_dtype"] == "uint8" and model(torch.zeros(1, 1, 36, 44)).shape == (1, 3, 36, 44)
