"""Inputs that training used to accept without a word (issue 16): a YAML boolean where a number is
expected (pydantic read `schedule.steps: true` as 1 and trained one step) and a segmentation set whose
masks are all empty (it can only learn background)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from img2img.cli import main
from img2img.config.loading import load_config, validate_config
from img2img.errors import UserError

BASE = {"model": {"name": "pix2pix"}, "data": {"input_dir": "images", "target_dir": "masks"}}


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_steps_true_in_yaml_is_a_one_line_error(tmp_path, capsys):
    config = write_yaml(tmp_path, "data: {input_dir: images, target_dir: masks}\nschedule:\n  steps: true\n")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "'schedule.steps': expected a whole number, got true" in err


@pytest.mark.parametrize("key, value, message", [
    ("data.batch_size", "yes", "'data.batch_size': expected a whole number, got true"),
    ("trainer.val_every_steps", "on", "'trainer.val_every_steps': expected a whole number, got true"),
    ("trainer.devices", "true", "'trainer.devices': expected a whole number, got true"),
    ("optimizer.lr", "false", "'optimizer.lr': expected a number, got false"),
    ("seed", "true", "'seed': expected a whole number, got true"),
    ("model.generator.depth", "true", "'model.generator.depth': expected a whole number, got true"),
])
def test_booleans_where_numbers_are_expected_are_refused(tmp_path, key, value, message):
    config = write_yaml(tmp_path, yaml.safe_dump(BASE))
    with pytest.raises(UserError, match=message.replace(".", r"\.")):
        load_config(config, [f"{key}={value}"])


def test_booleans_in_number_pairs_are_refused():
    raw = {"task": "translation", "model": {"name": "inpaint", "masks": {"strokes": [1, True]}},
           "data": {"image_dir": "clean"}}
    with pytest.raises(UserError, match=r"'model\.masks\.strokes': expected a whole number, got \[1, true\]"):
        validate_config(raw)


def test_booleans_and_numbers_still_go_where_they_belong():
    config = validate_config({**BASE, "schedule": {"steps": 300}, "optimizer": {"lr": 1e-3},
                              "augmentation": {"flip": False}, "trainer": {"compile": True, "devices": "auto"}})
    assert config.schedule.steps == 300 and config.augmentation.flip is False and config.trainer.compile is True


def write_pairs(folder: Path, masks) -> Path:
    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i, mask in enumerate(masks):
        tifffile.imwrite(folder / "images" / f"img_{i}.tif", rng.integers(0, 4000, (64, 64)).astype(np.uint16))
        tifffile.imwrite(folder / "masks" / f"img_{i}.tif", mask.astype(np.uint16))
    return folder


def datamodule(folder: Path):
    from img2img.data.datamodule import PairedDataModule

    config = validate_config({"data": {"input_dir": str(folder / "images"), "target_dir": str(folder / "masks"),
                                       "patch_size": 32, "val_fraction": 0.25, "num_workers": 0}})
    return PairedDataModule(config, size_multiple=config.generator_size_multiple, progress=False)


def test_all_empty_training_masks_are_named_in_a_warning(tmp_path):
    folder = write_pairs(tmp_path, [np.zeros((64, 64))] * 4)
    with pytest.warns(UserWarning, match=re.escape(f"{folder / 'masks'}: every training mask is empty")):
        datamodule(folder)


def test_masks_with_objects_give_no_warning(tmp_path, recwarn):
    mask = np.zeros((64, 64))
    mask[20:30, 20:30] = 1
    # Objects in two of four images (one is held out for validation): no longer all empty.
    datamodule(write_pairs(tmp_path, [mask, mask] + [np.zeros((64, 64))] * 2))
    assert not [w for w in recwarn if "mask is empty" in str(w.message)]
