"""The demo: synthesize nuclei images, train Pix2Pix for a few CPU minutes, segment held-out
images and write a report comparing it with the classical Otsu + watershed baseline.

It runs on an embedded configuration (no file needed) sized for a laptop CPU: the reference
U-Net-256 is too slow there, so the generator is narrower (32 base channels) and patches are
128 px. `experiments/cell_segmentation.yaml` holds the full-size configuration.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch

from img2img.config import validate_config
from img2img.data.synthetic import write_synthetic_dataset
from img2img.errors import UserError
from img2img.evaluation.evaluate import evaluate_segmentation
from img2img.evaluation.report import print_table, write_report
from img2img.inference.predictor import Predictor
from img2img.io.images import list_images
from img2img.training import train

MARKER = ".img2img-demo"
DEFAULT_STEPS = 800
DEFAULT_TRAIN_IMAGES = 60
TEST_IMAGES = 12


def demo_config(output: Path, steps: int) -> dict:
    return {
        "model": {
            "name": "pix2pix",
            "generator": {"base_channels": 32},
            "discriminator": {"base_channels": 32},
        },
        "data": {
            "input_dir": str(output / "data/train/images"),
            "target_dir": str(output / "data/train/masks"),
            "val_fraction": 0.1,
            "patch_size": 128,
            "batch_size": 4,
            "patches_per_image": 4,
            "num_workers": 1,
        },
        "schedule": {"steps": steps, "decay_start": 0.5},
        "optimizer": {"lr": 4e-4},
        "trainer": {"val_every_steps": max(1, steps // 4)},
        "output_dir": str(output / "run"),
        "seed": 0,
    }


def run_demo(output: str | Path = "demo_output", steps: int | None = None, n_train: int | None = None) -> Path:
    """Run everything and return the path of report.md."""
    output = Path(output)
    steps = steps or DEFAULT_STEPS
    n_train = n_train or DEFAULT_TRAIN_IMAGES
    _prepare(output)

    print(f"[1/4] synthesizing {n_train} training and {TEST_IMAGES} held-out nuclei images")
    write_synthetic_dataset("cells", output / "data/train", n=n_train, seed=0, size=256)
    # Held-out images from another seed and of a size the training never saw.
    write_synthetic_dataset("cells", output / "data/test", n=TEST_IMAGES, seed=1, size=384)

    print(f"[2/4] training Pix2Pix for {steps} steps on {device_description()}")
    config = validate_config(demo_config(output, steps), source="demo config")
    start = time.time()
    checkpoint = train(config)
    minutes = (time.time() - start) / 60

    print("[3/4] segmenting held-out images")
    predictor = Predictor.from_checkpoint(checkpoint)
    test_images = list_images(output / "data/test/images")
    predictor.predict_files(test_images, output / "predictions", save_probabilities=True)

    print("[4/4] evaluating against Otsu + watershed")
    evaluation = evaluate_segmentation(predictor, output / "data/test/images", output / "data/test/masks")
    print_table(evaluation)
    report = write_report(
        evaluation, output, title="img2img demo: Pix2Pix nuclei segmentation",
        notes=[
            f"Trained Pix2Pix (U-Net depth {config.generator_depth}, 32 base channels) for {steps} steps "
            f"on {n_train} synthetic 256 px images in {minutes:.1f} min on {device_description()}.",
            f"Evaluated on {TEST_IMAGES} held-out 384 px images from another seed. Checkpoint: `{checkpoint}`.",
            "Predicted label images: `predictions/` (uint16 TIFF, with `_probabilities.tif` maps).",
        ],
        extra={"training": {"steps": steps, "minutes": round(minutes, 2), "checkpoint": str(checkpoint)}},
    )
    print(f"report: {report}")
    return report


def device_description() -> str:
    return "GPU" if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"


def _prepare(output: Path) -> None:
    """Reuse the folder of an earlier demo; refuse to touch any other non-empty folder."""
    if output.exists() and any(output.iterdir()):
        if not (output / MARKER).exists():
            raise UserError(f"{output}: folder exists and is not an earlier demo; choose another --output")
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / MARKER).write_text("written by 'img2img demo'; the demo may delete this folder when run again\n")
