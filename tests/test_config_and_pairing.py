"""Config errors name the key; pairing errors name the files."""

import numpy as np
import pytest
import tifffile

from img2img.config import load_config, validate_config
from img2img.data.pairing import pair_files
from img2img.errors import UserError

DATA = {"input_dir": "a", "target_dir": "b"}


def test_defaults_are_the_reference_pix2pix():
    config = validate_config({"data": DATA})
    assert config.model.name == "pix2pix" and config.model.l1_weight == 100
    assert config.generator_depth == 8 and config.optimizer.lr == 2e-4 and config.optimizer.beta1 == 0.5


def test_typo_names_the_key_and_suggests():
    with pytest.raises(UserError, match=r"unknown key 'model.l1_wieght' \(did you mean 'model.l1_weight'\?\)"):
        validate_config({"data": DATA, "model": {"l1_wieght": 5}})


def test_bad_value_names_the_key():
    with pytest.raises(UserError, match=r"'data.batch_size'"):
        validate_config({"data": {**DATA, "batch_size": 0}})
    with pytest.raises(UserError, match=r"unknown model 'pix3pix'"):
        validate_config({"data": DATA, "model": {"name": "pix3pix"}})
    with pytest.raises(UserError, match=r"patch_size 100 must be a multiple of 64"):
        validate_config({"data": {**DATA, "patch_size": 100}})


def test_yaml_file_overrides_and_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  input_dir: x\n  target_dir: y\n")
    config = load_config(path, ["schedule.steps=7", "model.generator.base_channels=16"])
    assert config.schedule.steps == 7 and config.model.generator.base_channels == 16
    with pytest.raises(UserError, match="expected key=value"):
        load_config(path, ["schedule.steps"])
    path.write_text("data: [unclosed\n")
    with pytest.raises(UserError, match=r"c\.yaml: invalid YAML at line"):
        load_config(path)


def _touch(folder, names):
    folder.mkdir(exist_ok=True)
    for name in names:
        tifffile.imwrite(folder / name, np.zeros((4, 4), np.uint16))


def test_pairs_match_by_stem(tmp_path):
    _touch(tmp_path / "img", ["a.tif", "b.tif"])
    _touch(tmp_path / "msk", ["a.tif", "b.tiff"])
    pairs = pair_files(tmp_path / "img", tmp_path / "msk")
    assert [(x.name, y.name) for x, y in pairs] == [("a.tif", "a.tif"), ("b.tif", "b.tiff")]


def test_missing_partner_lists_names(tmp_path):
    _touch(tmp_path / "img", ["a.tif", "b.tif", "c.tif"])
    _touch(tmp_path / "msk", ["a.tif"])
    with pytest.raises(UserError, match=r"no target for b, c"):
        pair_files(tmp_path / "img", tmp_path / "msk")
    _touch(tmp_path / "msk", ["a.tif", "b.tif", "c.tif", "d.tif"])
    with pytest.raises(UserError, match=r"no input for d"):
        pair_files(tmp_path / "img", tmp_path / "msk")


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    _touch(tmp_path / "msk", ["a.tif"])
    with pytest.raises(UserError, match=r"empty: no images matching"):
        pair_files(tmp_path / "empty", tmp_path / "msk")
