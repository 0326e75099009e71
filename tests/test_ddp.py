"""Two-process DDP on the CPU (gloo): a few steps of Pix2Pix and of CycleGAN through the real
training path; both ranks must end with identical weights after seeing different data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

SCRIPT = Path(__file__).with_name("ddp_train.py")
TRAINER = {"accelerator": "cpu", "devices": 2, "strategy": "ddp", "val_every_steps": 3, "samples": 0,
           "ema_decay": 0.9, "log_every_steps": 1}


def write_folder(folder: Path, n: int, size=32, dtype=np.uint8, scale=255) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        tifffile.imwrite(folder / f"img_{i}.tif", rng.integers(0, scale, (size, size)).astype(dtype))
    return folder


def run_ddp(config: dict, tmp_path: Path) -> list[dict]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**config, "output_dir": str(tmp_path / "out")}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(SCRIPT), str(path), str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world_size"] == 2 for r in reports)
    assert reports[0]["first_batch"] != reports[1]["first_batch"]  # each rank trains on its own share
    assert reports[0]["weights"] == reports[1]["weights"]  # gradients averaged: one model
    assert any(k.startswith("ema.") for k in reports[0]["weights"])
    return reports


@pytest.mark.slow
def test_pix2pix_ranks_end_identical(cells, tmp_path):
    reports = run_ddp({
        "model": {"name": "pix2pix", "generator": {"base_channels": 8, "depth": 4},
                  "discriminator": {"base_channels": 8, "n_layers": 2}},
        "data": {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 32,
                 "batch_size": 2, "patches_per_image": 2, "num_workers": 0},
        "schedule": {"steps": 4}, "trainer": TRAINER,  # batch norm: rank 0's statistics each step, as DDP
    }, tmp_path)
    assert reports[0]["steps"] == 4


@pytest.mark.slow
def test_cyclegan_ranks_end_identical(tmp_path):
    write_folder(tmp_path / "a", 4)
    write_folder(tmp_path / "b", 3)
    run_ddp({
        "model": {"name": "cyclegan", "generator": {"n_blocks": 1, "base_channels": 8},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pool_size": 2},
        "data": {"a_dir": str(tmp_path / "a"), "b_dir": str(tmp_path / "b"), "patch_size": 24, "val_images": 1,
                 "num_workers": 0},
        "schedule": {"steps": 4}, "trainer": TRAINER,
    }, tmp_path)


@pytest.mark.slow
def test_noise2void_ranks_end_identical(tmp_path):
    """A single-optimizer module (automatic optimization): gradients are averaged after Lightning's
    closure made them, not before."""
    write_folder(tmp_path / "noisy", 6, dtype=np.uint16, scale=600)
    reports = run_ddp({
        "model": {"name": "n2v", "generator": {"base_channels": 8, "depth": 3}},
        "data": {"image_dir": str(tmp_path / "noisy"), "patch_size": 32, "batch_size": 2, "patches_per_image": 2,
                 "val_fraction": 0.3, "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 0, "max_value": 700},
        "schedule": {"steps": 4}, "trainer": TRAINER,
    }, tmp_path)
    assert reports[0]["steps"] == 4
