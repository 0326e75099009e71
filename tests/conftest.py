"""Shared fixtures: a tiny synthetic data set and a tiny model trained on it once per session."""

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

# Fuzz tests (marked `fuzz`): a bounded run in the default suite, the long campaign on demand with
# `pytest -m fuzz --hypothesis-profile=long`. No deadline: a 2-core CI machine is slow and uneven.
settings.register_profile("img2img", max_examples=40, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("img2img")

from img2img.cli import main
from tests.model_builders import save_checkpoint, untrained

TINY_MODEL = [
    "model.generator.base_channels=8", "model.discriminator.base_channels=8",
    "data.patch_size=64", "data.batch_size=2", "data.patches_per_image=2", "data.num_workers=0",
    "trainer.val_every_steps=3", "schedule.steps=6",
]


def write_config(folder: Path, data: Path, output: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"name": "pix2pix"},
        "data": {"input_dir": str(data / "images"), "target_dir": str(data / "masks")},
        "output_dir": str(output),
    }))
    return path


@pytest.fixture(scope="session")
def cells(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cells")
    assert main(["synth", "cells", "--output", str(folder), "--n", "6", "--size", "96", "--seed", "3"]) == 0
    return folder


@pytest.fixture(scope="session")
def trained(tmp_path_factory, cells) -> Path:
    """Path of the run folder of a 6-step model (checkpoints/best.ckpt, last.ckpt)."""
    folder = tmp_path_factory.mktemp("run")
    config = write_config(folder, cells, folder / "out")
    args = ["train", str(config)] + [a for s in TINY_MODEL for a in ("--set", s)]
    assert main(args) == 0
    return folder / "out"


@pytest.fixture(scope="session")
def translator(tmp_path_factory) -> Path:
    """Checkpoint of an untrained 1 -> 1 channel image model (percentile normalization: output in
    the input's units)."""
    return save_checkpoint(untrained(task="translation", out_channels=1), tmp_path_factory.mktemp("ckpt") / "t.ckpt")


@pytest.fixture(scope="session")
def segmenter(tmp_path_factory) -> Path:
    """Checkpoint of an untrained segmentation model."""
    return save_checkpoint(untrained(), tmp_path_factory.mktemp("ckpt") / "s.ckpt")
