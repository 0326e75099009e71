"""Exact resume: N steps in one run equal N/2 steps, a stop, and N/2 more with --resume
(weights, EMA, optimizer moments), for Pix2Pix (dropout, batch norm), CycleGAN (history pools) and
a model trained from one folder of clean images (inputs made on the fly: inpainting's random holes),
across its switch from L1 pre-training to L1 + GAN."""

from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import tifffile
import torch

from img2img.config.loading import validate_config
from img2img.training import train

STEPS = 6


class StopAfter(pl.Callback):
    """Interrupts a run after `steps` steps, as a crash or a time limit would."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if pl_module.training_steps_done >= self.steps:
            trainer.should_stop = True


def pix2pix_config(cells: Path, out: Path):
    return validate_config({
        "model": {"name": "pix2pix", "generator": {"base_channels": 8, "depth": 4},
                  "discriminator": {"base_channels": 8, "n_layers": 2}},
        "data": {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 32,
                 "batch_size": 2, "patches_per_image": 2, "num_workers": 0},  # 5 train pairs: 5 batches an epoch
        "schedule": {"steps": STEPS, "decay_start": 0.3},
        "trainer": {"accelerator": "cpu", "val_every_steps": 2, "samples": 0, "ema_decay": 0.9, "precision": "32"},
        "output_dir": str(out),
    })


def write_folder(folder: Path, n: int, size=32) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        tifffile.imwrite(folder / f"img_{i}.tif", rng.integers(0, 255, (size, size)).astype(np.uint8))
    return folder


def cyclegan_config(data: Path, out: Path):
    return validate_config({
        "model": {"name": "cyclegan", "generator": {"n_blocks": 1, "base_channels": 8},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pool_size": 2},
        "data": {"a_dir": str(data / "a"), "b_dir": str(data / "b"), "patch_size": 24, "val_images": 1,
                 "num_workers": 0},  # 4 A images: 4 batches an epoch
        "schedule": {"steps": STEPS, "decay_start": 0.3},
        "trainer": {"accelerator": "cpu", "val_every_steps": 2, "samples": 0, "ema_decay": 0.9, "precision": "32"},
        "output_dir": str(out),
    })


def inpaint_config(folder: Path, out: Path):
    return validate_config({
        "task": "translation",
        "model": {"name": "inpaint", "generator": {"kind": "gated", "base_channels": 8, "n_dilated": 1},
                  "discriminator": {"base_channels": 8, "n_layers": 2}, "pretrain_steps": 2,
                  "masks": {"stroke_width": [4, 8], "box_size": [4, 12]}},
        "data": {"image_dir": str(folder), "val_fraction": 0.25, "patch_size": 24, "batch_size": 2,
                 "patches_per_image": 2, "num_workers": 0},  # 3 train images: 3 batches an epoch
        "schedule": {"steps": STEPS, "decay_start": 0.3},
        "trainer": {"accelerator": "cpu", "val_every_steps": 2, "samples": 0, "ema_decay": 0.9, "precision": "32"},
        "output_dir": str(out),
    })


def final_state(out: Path) -> dict:
    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    moments = {f"opt{i}.{k}.{name}": v for i, opt in enumerate(checkpoint["optimizer_states"])
               for k, state in opt["state"].items() for name, v in state.items()}
    return {**checkpoint["state_dict"], **moments, "global_step": torch.tensor(checkpoint["global_step"])}


def steps_done_in(path: Path) -> int:
    """Training steps (batches) a checkpoint has done, by Lightning's batch counter (`global_step` counts
    optimizer steps: two per GAN step, one in L1 pre-training)."""
    loops = torch.load(path, weights_only=True)["loops"]["fit_loop"]
    return loops["epoch_loop.batch_progress"]["total"]["processed"]


def assert_resume_is_exact(make_config, tmp_path):
    whole = make_config(tmp_path / "whole")
    train(whole, progress=False)
    # Stop after 3 steps: mid-epoch, so the resumed sampler must continue inside an epoch.
    split = make_config(tmp_path / "split")
    train(split, progress=False, callbacks=[StopAfter(STEPS // 2)])
    assert steps_done_in(tmp_path / "split/checkpoints/last.ckpt") == STEPS // 2
    train(split, resume=tmp_path / "split/checkpoints/last.ckpt", progress=False)
    a, b = final_state(tmp_path / "whole"), final_state(tmp_path / "split")
    assert a.keys() == b.keys() and any(k.startswith("ema.") for k in a)
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6, msg=lambda m, key=key: f"{key}: {m}")
    return a


def test_pix2pix_resumes_exactly(cells, tmp_path):
    state = assert_resume_is_exact(lambda out: pix2pix_config(cells, out), tmp_path)
    assert state["global_step"] == 2 * STEPS


def test_cyclegan_resumes_exactly_with_its_pools(tmp_path):
    write_folder(tmp_path / "data/a", 4)
    write_folder(tmp_path / "data/b", 3)
    assert_resume_is_exact(lambda out: cyclegan_config(tmp_path / "data", out), tmp_path)
    pools = torch.load(tmp_path / "split/checkpoints/last.ckpt", weights_only=True)["image_pools"]
    assert len(pools["a"]["images"]) == 2 and len(pools["b"]["images"]) == 2


def test_single_folder_inpainting_resumes_exactly_across_the_gan_switch(tmp_path):
    write_folder(tmp_path / "clean", 4)
    assert_resume_is_exact(lambda out: inpaint_config(tmp_path / "clean", out), tmp_path)


def test_sampler_continues_mid_epoch_and_splits_epochs_over_ranks(monkeypatch):
    from img2img.data import sampling
    from img2img.data.sampling import PairedSampler

    done = {"steps": 0}
    sampler = PairedSampler(items=10, batch_size=2, seed=1, steps_done=lambda: done["steps"])
    epoch = list(sampler)
    assert len(epoch) == len(sampler) == 10 and sorted(i for i, _ in epoch) == list(range(10))
    done["steps"] = 3  # resumed after 3 of 5 batches: the rest of the same epoch, same seeds
    assert list(sampler) == epoch[6:]
    done["steps"] = 5
    assert list(sampler) != epoch  # a new epoch, a new order
    done["steps"] = 0
    monkeypatch.setattr(sampling, "rank_and_world", lambda: (1, 2))  # rank 1 of 2
    rank1 = list(sampler)
    monkeypatch.setattr(sampling, "rank_and_world", lambda: (0, 2))
    rank0 = list(sampler)
    assert len(rank0) == len(rank1) == 6 and not {s for _, s in rank0} & {s for _, s in rank1}
