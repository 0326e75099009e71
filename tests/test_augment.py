"""`img2img augment`: simulated videos translated frame by frame, positions carried over, written
as CSV and DeepLabCut labels; flicker measured; bad input one line."""

import csv
import json

import numpy as np
import pytest
import torch
import yaml

from img2img.cli import main
from img2img.config.loading import validate_config
from img2img.models.registry import build_model
from img2img.tracking import flicker
from tests.model_builders import save_checkpoint, untrained


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    out = tmp_path_factory.mktemp("sims")
    assert main(["synth", "zebrafish", "--output", str(out), "--n", "2", "--frames", "3", "--size", "128"]) == 0
    return out


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory):
    config = validate_config({"model": {"name": "cyclegan", "generator": {"n_blocks": 1, "base_channels": 8},
                                        "discriminator": {"base_channels": 8}},
                              "data": {"a_dir": "a", "b_dir": "b", "patch_size": 32}, "normalization": {"mode": "dtype"}})
    torch.manual_seed(0)
    model = build_model(config, 1, 1, "uint8", target_dtype="uint8").eval()
    return save_checkpoint(model, tmp_path_factory.mktemp("model") / "cyclegan.ckpt")


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_augment_translates_every_frame_and_carries_the_positions_over(sims, cyclegan, tmp_path, capsys):
    out = tmp_path / "augmented"
    assert main(["augment", str(sims), "--model", str(cyclegan), "--output", str(out), "--device", "cpu"]) == 0
    assert "video_000: 3 frames, 3 animals, flicker" in capsys.readouterr().out
    import tifffile

    for video in ("video_000", "video_001"):
        source = [tifffile.imread(sims / video / f"frame_{t:04d}.tif") for t in range(3)]
        result = [tifffile.imread(out / video / f"frame_{t:04d}.tif") for t in range(3)]
        assert all(r.shape == s.shape and r.dtype == np.uint8 for r, s in zip(result, source))
        assert not np.array_equal(result[0], source[0])
        assert _rows(out / video / "positions.csv") == _rows(sims / video / "positions.csv")
        labels = (out / "deeplabcut" / "labeled-data" / video / "CollectedData_img2img.csv").read_text().splitlines()
        assert [line.split(",")[0] for line in labels[:4]] == ["scorer", "individuals", "bodyparts", "coords"]
        assert labels[1].split(",")[1:3] == ["larva1", "larva1"] and labels[3].split(",")[1:3] == ["x", "y"]
        assert len(labels) == 4 + 3 and labels[4].startswith(f"labeled-data/{video}/img0000.png,")
        first = [r for r in _rows(sims / video / "positions.csv") if r["frame"] == "0" and r["id"] == "0"][0]
        assert labels[4].split(",")[1:3] == [f"{float(first['x']):.2f}", f"{float(first['y']):.2f}"]
        assert (out / "deeplabcut" / "labeled-data" / video / "img0002.png").is_file()
    settings = yaml.safe_load((out / "deeplabcut" / "project_settings.yaml").read_text())
    assert settings["individuals"] == ["larva1", "larva2", "larva3"] and settings["multianimalbodyparts"] == ["head"]
    assert settings["video_sets"] == {f"videos/video_00{i}.mp4": {"crop": "0, 128, 0, 128"} for i in (0, 1)}
    report = json.loads((out / "augment_report.json").read_text())
    assert np.isfinite(report["videos"]["video_000"]["flicker_translated"])


def test_bad_augment_input_is_one_line(sims, cyclegan, tmp_path, capsys):
    segmenter = save_checkpoint(untrained(), tmp_path / "seg.ckpt")
    cases = [
        (["augment", str(sims), "--model", str(cyclegan), "--output", str(sims / "out")], "must be outside"),
        (["augment", str(sims), "--model", str(segmenter), "--output", str(tmp_path / "o1")], "image-translation model"),
        (["augment", str(tmp_path / "empty"), "--model", str(cyclegan), "--output", str(tmp_path / "o2")], "no video folders"),
    ]
    (tmp_path / "empty").mkdir()
    video = tmp_path / "short"
    video.mkdir()
    (video / "positions.csv").write_text((sims / "video_000" / "positions.csv").read_text())
    cases.append((["augment", str(video), "--model", str(cyclegan), "--output", str(tmp_path / "o3")], "no frames"))
    one = tmp_path / "one_frame"
    one.mkdir()
    (one / "positions.csv").write_text((sims / "video_000" / "positions.csv").read_text())
    (one / "frame_0000.tif").write_bytes((sims / "video_000" / "frame_0000.tif").read_bytes())
    cases.append((["augment", str(one), "--model", str(cyclegan), "--output", str(tmp_path / "o4")], "names frame 2"))
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (sims / "out").exists()


def test_flicker_is_zero_for_a_still_video_and_the_noise_level_for_noise():
    rng = np.random.default_rng(0)
    still = np.full((4, 64, 64), 100, np.uint8)
    moving = still.copy()
    moving[:, 30:34, 30:34] = rng.integers(0, 255, (4, 4, 4))  # an animal that moves in place
    rows = [{"frame": t, "x": 32.0, "y": 32.0} for t in range(4)]
    assert flicker(moving, rows, keep_away=6) == 0.0
    noisy = rng.normal(100, 10, (6, 128, 128)).astype(np.float32)
    assert flicker(noisy) == pytest.approx(10 * 2 / np.sqrt(np.pi), rel=0.03)  # E|X - Y| for N(0, 10^2) each


def test_the_documented_path_from_simulations_and_real_frames_to_tracker_data(sims, tmp_path, capsys):
    """docs/usage.md's two commands after `synth zebrafish`: train experiments/larvae_sim2real.yaml
    on the simulations (in video subfolders) and a folder of real frames, then augment."""
    real = tmp_path / "real"
    real.mkdir()
    for t in range(3):  # stand-ins for a user's recording: frames of other dishes, flat in one folder
        (real / f"recording_{t}.tif").write_bytes((sims / "video_001" / f"frame_{t:04d}.tif").read_bytes())
    tiny = ["model.generator.n_blocks=1", "model.generator.base_channels=8", "model.discriminator.base_channels=8",
            f"data.a_dir={sims}", f"data.b_dir={real}", "data.patch_size=64", "data.num_workers=0",
            "data.val_images=1", "schedule.steps=2", "trainer.val_every_steps=2", "trainer.samples=0",
            f"output_dir={tmp_path / 'run'}"]
    train = ["train", "experiments/larvae_sim2real.yaml", *[a for s in tiny for a in ("--set", s)]]
    assert main(train) == 0
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert main(["augment", str(sims), "--model", str(checkpoint), "--output", str(tmp_path / "tracker_data"),
                 "--device", "cpu"]) == 0
    assert (tmp_path / "tracker_data" / "video_001" / "positions.csv").is_file()
    assert (tmp_path / "tracker_data" / "deeplabcut" / "labeled-data" / "video_000" / "CollectedData_img2img.csv").is_file()


def test_synth_zebrafish_refuses_a_folder_with_files(sims, capsys):
    assert main(["synth", "zebrafish", "--output", str(sims), "--n", "1", "--frames", "1", "--size", "128"]) == 2
    assert "already contains files" in capsys.readouterr().err
