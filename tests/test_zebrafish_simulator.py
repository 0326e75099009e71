"""The zebrafish larva simulator: positions are where the larvae are drawn, paths stay in the
dish and swim in bouts, settings come from YAML with one-line errors."""

import csv

import numpy as np
import pytest
from scipy import ndimage

from img2img.cli import main
from img2img.data.synthetic.zebrafish import Rig, load_rig, simulate_video
from img2img.errors import UserError

CLEAN = {"camera": {"noise": 0, "specks": 0, "fibres": 0}, "dish": {"texture": 0}}


def rig(size=512, **changes):
    base = Rig.model_validate({**CLEAN, **changes})
    return base.scaled(size / base.frame_size)


def test_the_same_seed_gives_the_same_video_and_another_video_differs():
    a, rows_a = simulate_video(rig(256), 3, seed=4, video=0)
    b, rows_b = simulate_video(rig(256), 3, seed=4, video=0)
    c, _ = simulate_video(rig(256), 3, seed=4, video=1)
    np.testing.assert_array_equal(a, b)
    assert rows_a == rows_b and not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == (3, 256, 256) and len(rows_a) == 3 * 3


def test_each_head_position_is_between_the_drawn_eyes_and_the_heading_points_away_from_the_bladder():
    r = rig(512, larvae=4)
    frames, rows = simulate_video(r, 1, seed=1)
    image = ndimage.gaussian_filter(frames[0].astype(np.float32), 0.5)
    for row in rows:
        x, y, angle = row["x"], row["y"], np.deg2rad(row["heading_deg"])
        window = image[int(y) - 6 : int(y) + 7, int(x) - 6 : int(x) + 7]
        darkest = np.argsort(window.ravel())[:16]  # the two eyes
        ys, xs = np.unravel_index(darkest, window.shape)
        centre = np.array([xs.mean() + int(x) - 6, ys.mean() + int(y) - 6])
        assert np.linalg.norm(centre - [x, y]) < 1.2, row
        ahead = np.array([x, y]) + 0.15 * r.larva.length * np.array([np.cos(angle), np.sin(angle)])
        behind = np.array([x, y]) - 0.15 * r.larva.length * np.array([np.cos(angle), np.sin(angle)])
        assert image[int(behind[1]), int(behind[0])] < image[int(ahead[1]), int(ahead[0])] - 20, row


def test_the_drawn_eyes_are_centred_on_the_label_to_a_tenth_of_a_pixel():
    """Sub-pixel: the absorption-weighted centre of the two eyes alone (no head, bladder or tail)
    is the labelled head position, for any heading and fractional offset."""
    from img2img.data.synthetic.zebrafish.drawing import larva_absorption

    eyes_only = rig(1024, larva={"head_darkness": 0, "bladder_darkness": 0, "tail_darkness": 0})
    rng = np.random.default_rng(0)
    window = 41
    for _ in range(12):
        offset, heading = rng.uniform(-3, 3, 2), rng.uniform(-np.pi, np.pi)
        absorb = larva_absorption(eyes_only, eyes_only.larva.length, heading, 0.0, 0.0, offset, window)
        ys, xs = np.indices(absorb.shape)
        centre = np.array([(xs * absorb).sum(), (ys * absorb).sum()]) / absorb.sum()
        assert np.linalg.norm(centre - (window / 2 - offset)) < 0.1, (offset, heading, centre)


def test_larvae_stay_in_the_dish_and_swim_in_bouts():
    r = rig(256, larvae=5)
    _, rows = simulate_video(r, 150, seed=2)
    xy = np.array([[q["x"], q["y"]] for q in rows]).reshape(150, 5, 2)
    # the dish's centre moves by at most centre_offset; its radius is dish.radius of the side
    assert np.linalg.norm(xy - 128, axis=2).max() < r.dish.radius * 256 + r.dish.centre_offset * 256 * 1.5
    steps = np.linalg.norm(np.diff(xy, axis=0), axis=2)
    assert (steps < 0.1 * r.swimming.bout_speed).mean() > 0.3, "larvae rest between bouts"
    assert steps.max() > 0.5 * r.swimming.bout_speed and steps.max() <= 1.5 * r.swimming.bout_speed + 1e-6


def test_a_scaled_rig_swims_the_same_paths_scaled():
    """--size scales the rig; bouts, glides and rests must keep their timing, so the path at a
    quarter size is the full-size path times a quarter (the rest threshold is relative)."""
    from img2img.data.synthetic.zebrafish.swimming import swim

    full, small = rig(1024), rig(256)
    a = swim(np.random.default_rng(5), full, 300, np.array([512.0, 512.0]), 400.0, np.array([512.0, 512.0]))
    b = swim(np.random.default_rng(5), small, 300, np.array([128.0, 128.0]), 100.0, np.array([128.0, 128.0]))
    assert np.allclose(b.speed, a.speed / 4) and np.allclose(b.heading, a.heading)
    assert np.allclose(b.xy, a.xy / 4)


def test_rig_settings_come_from_yaml_with_one_line_errors(tmp_path):
    path = tmp_path / "rig.yaml"
    path.write_text("larvae: 7\ncamera: {noise: 4}\n")
    loaded = load_rig(path)
    assert loaded.larvae == 7 and loaded.camera.noise == 4 and loaded.larva.length == Rig().larva.length
    path.write_text("larva: {lenght: 90}\n")
    with pytest.raises(UserError, match=r"rig.yaml: larva.lenght"):
        load_rig(path)
    path.write_text("- a list\n")
    with pytest.raises(UserError, match="mapping"):
        load_rig(path)
    half = Rig().scaled(0.5)
    assert half.larva.length == Rig().larva.length / 2 and half.frame_size == 512
    assert half.camera.noise == Rig().camera.noise / 2  # as frames shrunk by area averaging
    assert Rig().scaled(2).camera.noise == Rig().camera.noise


def test_synth_zebrafish_writes_videos_with_positions(tmp_path, capsys):
    out = tmp_path / "sims"
    assert main(["synth", "zebrafish", "--output", str(out), "--n", "2", "--frames", "3", "--size", "128"]) == 0
    assert "wrote 2 video(s) of 3 frames (128 px, 3 larvae each)" in capsys.readouterr().out
    for video in ("video_000", "video_001"):
        assert sorted(p.name for p in (out / video).glob("*.tif")) == [f"frame_{t:04d}.tif" for t in range(3)]
        with open(out / video / "positions.csv") as handle:
            rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
        assert len(rows) == 9 and set(rows[0]) == {"frame", "id", "x", "y", "heading_deg"}
    assert load_rig(out / "rig.yaml").frame_size == 128
    bad = tmp_path / "bad.yaml"
    bad.write_text("camera: {noise: -1}\n")
    assert main(["synth", "zebrafish", "--output", str(tmp_path / "x"), "--rig", str(bad)]) == 2
    assert "bad.yaml: camera.noise" in capsys.readouterr().err
