"""Rebuild the packaged nuclei segmenter (img2img/builtin/nuclei_segmenter.ckpt) in one command:

    python experiments/make_builtin_model.py [--workdir /tmp/builtin_nuclei]

Synthesizes nuclei images, trains with experiments/builtin_nuclei.yaml, scores the model
against Otsu + watershed on held-out images of another seed, and writes the checkpoint with
float16 weights and without the optimizer state (a few MB instead of tens).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import torch

from img2img.config import load_config
from img2img.data.synthetic import write_synthetic_dataset
from img2img.evaluation.evaluate import evaluate_segmentation
from img2img.evaluation.report import print_table
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_path
from img2img.training import train

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "experiments" / "builtin_nuclei.yaml"
DESTINATION = ROOT / "img2img" / "builtin" / "nuclei_segmenter.ckpt"


def slim_checkpoint(source: Path, destination: Path) -> None:
    """Keep weights and hyperparameters only; floating-point weights as float16."""
    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in checkpoint["state_dict"].items()}
    slim = {"state_dict": state, "hyper_parameters": checkpoint["hyper_parameters"]}
    with atomic_path(destination) as tmp:
        torch.save(slim, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/img2img_builtin_nuclei"))
    parser.add_argument("--train-images", type=int, default=80)
    args = parser.parse_args()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    write_synthetic_dataset("cells", work / "train", n=args.train_images, seed=0, size=256)
    write_synthetic_dataset("cells", work / "test", n=12, seed=1, size=384)
    config = load_config(CONFIG, overrides=[
        f"data.input_dir={work / 'train/images'}", f"data.target_dir={work / 'train/masks'}",
        f"output_dir={work / 'run'}",
    ])
    start = time.time()
    best = train(config)
    minutes = (time.time() - start) / 60
    slim_checkpoint(best, DESTINATION)
    evaluation = evaluate_segmentation(Predictor.from_checkpoint(DESTINATION), work / "test/images", work / "test/masks")
    print_table(evaluation)
    size_mb = DESTINATION.stat().st_size / 1e6
    print(f"trained in {minutes:.1f} min; wrote {DESTINATION} ({size_mb:.1f} MB)")


if __name__ == "__main__":
    main()
