"""One annotated image trains: a corner piece of it is held back for validation, never trained on;
and a run reports where it is (train.log, plain lines on a non-terminal stdout, a summary)."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from img2img.config.loading import validate_config
from img2img.data.datamodule import PairedDataModule
from img2img.data.pieces import corner_split, grid_pieces
from img2img.data.synthetic import write_synthetic_dataset
from img2img.training import train

TINY = {"generator": {"base_channels": 8, "depth": 4}, "discriminator": {"base_channels": 8, "n_layers": 2}}


@pytest.mark.parametrize("shape", [(300, 200), (100, 300), (130, 130)])
@pytest.mark.parametrize("corner", range(4))
def test_a_corner_piece_and_the_rest_tile_the_plane_without_overlap(shape, corner):
    split = corner_split(shape, 64, corner)
    assert split is not None
    held, rest = split
    covered = np.zeros(shape, int)
    for window in [held, *rest]:
        covered[window] += 1
        assert min(s.stop - s.start for s in window) >= 64  # every rectangle holds a whole patch
    assert (covered == 1).all()
    assert len(rest) <= 2


def test_a_plane_of_one_cell_cannot_be_split_and_grid_pieces_cover_it():
    assert corner_split((100, 120), 64, 0) is None
    plane = np.arange(300 * 200).reshape(300, 200)
    assert sum(p.size for p in grid_pieces(plane, 64)) == plane.size


def write_unique_pairs(folder: Path, shapes) -> Path:
    """Inputs whose every pixel value occurs once in the data set (so pixels can be traced), as targets too."""
    start = 0
    for sub in ("x", "y"):
        (folder / sub).mkdir(parents=True)
    for i, shape in enumerate(shapes):
        image = (start + np.arange(shape[0] * shape[1])).reshape(shape).astype(np.uint16)
        start += image.size
        for sub in ("x", "y"):
            tifffile.imwrite(folder / sub / f"img_{i}.tif", image)
    return folder


def datamodule(folder: Path, **data) -> PairedDataModule:
    config = validate_config({
        "task": "translation", "model": {"name": "pix2pix", **TINY}, "normalization": {"mode": "dtype"},
        "data": {"input_dir": str(folder / "x"), "target_dir": str(folder / "y"), "patch_size": 48, "num_workers": 0, **data},
    })
    return PairedDataModule(config, config.generator_size_multiple, progress=False)


def pixel_values(pairs) -> set[float]:
    return {float(v) for p in pairs for v in p.input.ravel()}


def test_one_image_holds_back_a_piece_that_training_never_sees(tmp_path):
    dm = datamodule(write_unique_pairs(tmp_path, [(150, 110)]))
    assert len(dm.val_pairs) == 1 and 1 <= len(dm.train_pairs) <= 2
    assert all(min(p.input.shape[1:]) >= 48 for p in dm.train_pairs)
    train, val = pixel_values(dm.train_pairs), pixel_values(dm.val_pairs)
    assert not train & val
    assert len(train | val) == 150 * 110  # nothing lost either
    assert [f.name for f, _ in dm.val_files] == ["img_0.tif"]


def test_val_fraction_zero_holds_back_one_piece_of_each_image(tmp_path):
    dm = datamodule(write_unique_pairs(tmp_path, [(100, 100), (120, 96), (60, 60)]), val_fraction=0)
    # The 60 px image is too small to cut (under twice the patch): it trains whole, the others give a piece each.
    assert sorted(f.name for f, _ in dm.val_files) == ["img_0.tif", "img_1.tif"]
    assert {f.name for f, _ in dm.train_files} == {"img_0.tif", "img_1.tif", "img_2.tif"}
    assert not pixel_values(dm.train_pairs) & pixel_values(dm.val_pairs)


def test_one_image_and_its_mask_train_and_the_run_reports_where_it_is(tmp_path, capsys):
    data = tmp_path / "one"
    write_synthetic_dataset("cells", data, n=1, seed=3, size=128, progress=False)
    config = validate_config({
        "model": {"name": "pix2pix", **TINY},
        "data": {"input_dir": str(data / "images"), "target_dir": str(data / "masks"), "patch_size": 48,
                 "batch_size": 2, "patches_per_image": 2, "num_workers": 0},
        "schedule": {"steps": 4},
        "trainer": {"accelerator": "cpu", "val_every_steps": 2, "samples": 1},
        "output_dir": str(tmp_path / "run"),
    })
    best = train(config)  # progress on, stdout captured (not a terminal): plain lines
    run = tmp_path / "run"
    assert best == run / "checkpoints/best.ckpt" and best.is_file()
    log = (run / "train.log").read_text()
    assert "\r" not in log
    for step in (1, 2, 3, 4):  # 4 steps: a line every step (every 5% of the run, at least one step)
        assert f"step {step}/4 ({25 * step}%) |" in log
    assert "step 2/4 (50%) | validation: " in log and "val/f1" in log
    assert "training done: 4 of 4 steps in " in log and " images/s)" in log
    assert f"at step 2: {best}" in log or f"at step 4: {best}" in log
    assert f"last checkpoint (to --resume): {run / 'checkpoints/last.ckpt'}" in log
    out = capsys.readouterr().out
    assert "\r" not in out
    for line in log.splitlines():
        assert line.split(" ", 2)[2] in out  # every line (less its time stamp) was printed too
