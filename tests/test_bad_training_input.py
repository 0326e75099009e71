"""Bad training input is one line naming the problem and the fix (exit code 2), never a traceback."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from img2img.cli import main
from model_builders import save_checkpoint, untrained


def write_images(folder: Path, n: int, size=32, channels=1) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        shape = (size, size) if channels == 1 else (size, size, channels)
        tifffile.imwrite(folder / f"img_{i}.tif", rng.integers(0, 255, shape).astype(np.uint8))
    return folder


def run_train(tmp_path: Path, config: dict, *extra: str, capsys) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**config, "output_dir": str(tmp_path / "out")}))
    assert main(["train", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def paired(folder: Path, patch=32) -> dict:
    return {"task": "translation", "model": {"generator": {"base_channels": 8}, "discriminator": {"base_channels": 8}},
            "data": {"input_dir": str(folder / "x"), "target_dir": str(folder / "y"), "patch_size": patch, "num_workers": 0}}


def test_identity_loss_with_unequal_channel_counts(tmp_path, capsys):
    write_images(tmp_path / "a", 2)
    write_images(tmp_path / "b", 2, channels=3)
    err = run_train(tmp_path, {"model": {"name": "cyclegan"}, "data": {"a_dir": str(tmp_path / "a"), "b_dir": str(tmp_path / "b"),
                                                                     "patch_size": 32}}, capsys=capsys)
    assert "A has 1 channel(s) and B 3; set model.identity_weight=0" in err


def test_one_image_too_small_to_hold_back_a_validation_piece(tmp_path, capsys):
    write_images(tmp_path / "x", 1, size=48)
    write_images(tmp_path / "y", 1, size=48)
    err = run_train(tmp_path, paired(tmp_path), capsys=capsys)
    assert "img_0.tif: 48x48 px is too small to hold back a validation piece (at least 64 px along one side" in err
    assert "lower data.patch_size or add images" in err


def test_val_fraction_zero_with_no_image_large_enough_to_cut(tmp_path, capsys):
    write_images(tmp_path / "x", 2, size=48)
    write_images(tmp_path / "y", 2, size=48)
    config = paired(tmp_path)
    config["data"]["val_fraction"] = 0
    assert "no image is large enough to hold back a validation piece" in run_train(tmp_path, config, capsys=capsys)


def test_images_smaller_than_the_patch(tmp_path, capsys):
    write_images(tmp_path / "x", 3, size=40)
    write_images(tmp_path / "y", 3, size=40)
    err = run_train(tmp_path, paired(tmp_path, patch=64), capsys=capsys)
    assert "img_" in err and "40x40 px is smaller than data.patch_size 64; lower data.patch_size" in err


@pytest.mark.parametrize("change, message", [
    ({"model": {"name": "cyclegan"}}, "is a 'pix2pix' checkpoint but the config trains 'cyclegan'"),
    ({"model": {"generator": {"base_channels": 16}}}, "was trained with model.generator.base_channels=8 but the config has 16"),
    ({"trainer": {"ema_decay": 0.99}}, "was trained with trainer.ema_decay=None but the config has 0.99"),
])
def test_resume_from_a_checkpoint_of_another_model(tmp_path, capsys, change, message):
    write_images(tmp_path / "x", 3)
    write_images(tmp_path / "y", 3)
    model = untrained(depth=5, in_channels=1, out_channels=1, task="translation", input_dtype="uint8", dropout=0.5)
    checkpoint = save_checkpoint(model, tmp_path / "other.ckpt")
    config = paired(tmp_path)
    config["model"] = {"generator": {"depth": 5, "base_channels": 8, "dropout": 0.5}}  # as `untrained` builds it
    if "name" in change.get("model", {}):
        config = {"model": {"name": "cyclegan"}, "data": {"a_dir": str(tmp_path / "x"), "b_dir": str(tmp_path / "y"), "patch_size": 32}}
    else:
        for section, values in change.items():
            for key, value in values.items():
                target = config.setdefault(section, {})
                target[key] = {**target.get(key, {}), **value} if isinstance(value, dict) else value
    assert message in run_train(tmp_path, config, "--resume", str(checkpoint), capsys=capsys)


def test_init_and_resume_together(tmp_path, capsys):
    write_images(tmp_path / "x", 2)
    write_images(tmp_path / "y", 2)
    err = run_train(tmp_path, paired(tmp_path), "--init", "a.ckpt", "--resume", "b.ckpt", capsys=capsys)
    assert "--init starts a new run from a model's weights and --resume continues a run; give one of them" in err


@pytest.mark.parametrize("config, message", [
    ({"model": {"name": "cyclegan"}}, "is a 'pix2pix' checkpoint but the config trains 'cyclegan'; fine-tune with model.name: pix2pix"),
    ({"task": "segmentation"}, "is a translation model but the config sets task: segmentation; remove task"),
])
def test_fine_tuning_a_checkpoint_of_another_kind(tmp_path, capsys, config, message):
    write_images(tmp_path / "x", 2)
    write_images(tmp_path / "y", 2)
    checkpoint = save_checkpoint(untrained(task="translation", out_channels=1, input_dtype="uint8"), tmp_path / "p2p.ckpt")
    if "model" in config:
        config["data"] = {"a_dir": str(tmp_path / "x"), "b_dir": str(tmp_path / "y"), "patch_size": 32}
    else:
        config = {**paired(tmp_path), **config}
    err = run_train(tmp_path, config, "--init", str(checkpoint), capsys=capsys)
    assert err.startswith(f"error: {checkpoint}: ") and message in err


def test_fine_tuning_on_images_with_another_channel_count(tmp_path, capsys):
    write_images(tmp_path / "x", 3, channels=3)
    write_images(tmp_path / "y", 3)
    checkpoint = save_checkpoint(untrained(task="translation", out_channels=1, input_dtype="uint8"), tmp_path / "gray.ckpt")
    err = run_train(tmp_path, paired(tmp_path), "--init", str(checkpoint), capsys=capsys)
    assert f"{checkpoint}: was trained on input images with 1 channel(s) but {tmp_path / 'x'} holds 3" in err
