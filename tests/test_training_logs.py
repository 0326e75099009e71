"""What a training run logs: losses per network, learning rate, images/s (CSV and TensorBoard),
and sample grids (PNG and TensorBoard images)."""

import csv

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from img2img.config.loading import validate_config
from img2img.training import train


def test_a_run_logs_losses_lr_throughput_and_sample_grids(cells, tmp_path):
    config = validate_config({
        "model": {"name": "pix2pix", "generator": {"base_channels": 8, "depth": 4},
                  "discriminator": {"base_channels": 8, "n_layers": 2}},
        "data": {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 32,
                 "batch_size": 2, "patches_per_image": 2, "num_workers": 0},
        "schedule": {"steps": 4},
        "trainer": {"accelerator": "cpu", "val_every_steps": 4, "log_every_steps": 1, "samples": 1},
        "output_dir": str(tmp_path / "run"),
    })
    train(config, progress=False)
    run = tmp_path / "run"
    with open(run / "logs/version_0/metrics.csv") as f:
        rows = list(csv.DictReader(f))
    logged = {key for row in rows for key, value in row.items() if value}
    assert {"train/loss_d", "train/loss_g", "train/loss_l1", "train/images_per_s", "val/f1", "val/dsb_score"} <= logged
    assert any(key.startswith("lr-Adam") for key in logged)
    assert all(float(r["train/images_per_s"]) > 0 for r in rows if r.get("train/images_per_s"))
    assert (run / "samples/step_000004.png").is_file()
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    assert "samples" in events.Tags()["images"] and "train/images_per_s" in events.Tags()["scalars"]
