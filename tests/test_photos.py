"""Synthetic photos and paintings (unpaired RGB style transfer) and a few CycleGAN steps on them."""

import numpy as np
import pytest
import yaml
from skimage.io import imread

from img2img.cli import main
from img2img.data.synthetic.photos import render_pair


def _distinct_colours(image: np.ndarray) -> int:
    return len(np.unique(image.reshape(-1, 3), axis=0))


def test_a_painting_is_posterized_and_outlined_where_the_photo_is_smooth():
    photo, painting = render_pair(np.random.default_rng(3), 96)
    again, _ = render_pair(np.random.default_rng(3), 96)
    assert np.array_equal(photo, again) and photo.shape == painting.shape == (96, 96, 3) and photo.dtype == np.uint8
    assert _distinct_colours(painting) < _distinct_colours(photo) / 3  # a posterized palette
    levels = np.unique(painting)
    assert len(levels) > 5 and (painting.min(axis=2) < 40).mean() > 0.01  # outlines darken some pixels
    assert np.abs(painting.astype(int) - photo).mean() > 10  # the style differs from the photo of the same scene


@pytest.mark.slow
def test_synth_photos_and_a_few_cyclegan_steps(tmp_path, capsys):
    data = tmp_path / "photos"
    assert main(["synth", "photos", "--output", str(data), "--n", "3", "--size", "64"]) == 0
    assert "paintings" in capsys.readouterr().out
    assert sorted(p.name for p in (data / "painting").iterdir()) == [f"painting_000{i}.png" for i in range(3)]
    assert imread(data / "photo" / "photo_0000.png").shape == (64, 64, 3)
    path = tmp_path / "config.yaml"
    config = yaml.safe_load(open("experiments/photo_style.yaml"))
    config["data"].update({"a_dir": str(data / "photo"), "b_dir": str(data / "painting"), "patch_size": 48,
                           "num_workers": 0, "val_images": 1})
    config["model"]["generator"].update({"n_blocks": 1, "base_channels": 8})
    config["model"]["discriminator"]["base_channels"] = 8
    config.update({"schedule": {"steps": 3}, "trainer": {"val_every_steps": 3, "samples": 2},
                   "output_dir": str(tmp_path / "run")})
    path.write_text(yaml.safe_dump(config))
    assert main(["train", str(path)]) == 0
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
