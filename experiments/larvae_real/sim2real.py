"""Simulated -> real larvae on real footage (issue 18): does CycleGAN make our simulations useful
for finding real larvae?

    OMP_NUM_THREADS=1 python experiments/larvae_real/sim2real.py prepare  --work /tmp/larvae_real [--variant frames]
    OMP_NUM_THREADS=1 python experiments/larvae_real/sim2real.py cyclegan --work /tmp/larvae_real [--variant frames]
    OMP_NUM_THREADS=1 python experiments/larvae_real/sim2real.py evaluate --work /tmp/larvae_real [--variant frames]

Everything runs at half the recording's resolution (real_frames.SCALE). The split is fixed by a
written rule: real frames 0-77 train (CycleGAN's real domain and the upper-bound detector), frames
78-97 are the test block, looked at only by `evaluate`'s scoring. Simulations never share a seed
between uses (SEEDS). CycleGAN learns on 128 px crops: half of them around a larva (real: around
the annotated head, shifted at random), half anywhere, in both domains, so that a larva is not a
sign of one domain for the discriminator (with whole frames, one real larva against several
simulated ones would teach it exactly that, and the generator to erase larvae).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_frames import HERE, load_real  # noqa: E402
from simulations import SEEDS, simulated  # noqa: E402


CROP = 128
CYCLEGAN = [  # experiments/larvae_sim2real.yaml at CPU size, on the crops
    "model.generator.base_channels=16", "model.generator.n_blocks=4", "model.discriminator.base_channels=16",
    f"data.patch_size={CROP}", "data.num_workers=0", "data.val_images=4", "data.patches_per_image=1",
    "trainer.val_every_steps=1000",
]


def crops(images, points, rng: np.random.Generator) -> list[np.ndarray]:
    """Per frame: one CROP px crop around a random larva (shifted by up to a third of the crop) and one anywhere."""
    out = []
    for image, pts in zip(images, points, strict=True):
        h, w = image.shape
        centre = pts[rng.integers(len(pts))] + rng.uniform(-CROP / 3, CROP / 3, 2)
        for cx, cy in (centre, rng.uniform(CROP / 2, [w - CROP / 2, h - CROP / 2])):
            x0 = int(np.clip(round(cx - CROP / 2), 0, w - CROP))
            y0 = int(np.clip(round(cy - CROP / 2), 0, h - CROP))
            out.append(image[y0 : y0 + CROP, x0 : x0 + CROP])
    return out


def prepare(work: Path, variant: str) -> None:
    """`crops`: 128 px crops, half around a larva, in both domains (needs the real frames'
    positions). `frames`: whole frames, as a user without positions would train: simulations
    with one larva per dish, as in the real clip, so that larvae are equally common in both."""
    rng = np.random.default_rng(0)
    real, real_points, _ = load_real("train")
    if variant == "crops":
        sim, sim_points = simulated(SEEDS["cyclegan"], videos=80, frames=21, every=10)
        domains = {"a_sim": crops(sim, sim_points, rng), "b_real": crops(real, real_points, rng)}
    else:
        sim, _ = simulated(SEEDS["cyclegan"], videos=80, frames=21, every=20, larvae=1)
        domains = {"a_sim": sim, "b_real": real}
    for domain, images in domains.items():
        folder = work / f"cyclegan_data_{variant}" / domain
        folder.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(images):
            tifffile.imwrite(folder / f"{domain}_{i:04d}.tif", image)
        print(f"{folder}: {len(images)} images")


def run_folder(work: Path, variant: str) -> Path:
    return work / ("cyclegan_run" if variant == "crops" else f"cyclegan_run_{variant}")


def train_cyclegan(work: Path, steps: int, variant: str) -> None:
    from img2img.config import load_config
    from img2img.training import train

    data, run = work / f"cyclegan_data_{variant}", run_folder(work, variant)
    overrides = [f"data.a_dir={data / 'a_sim'}", f"data.b_dir={data / 'b_real'}",
                 f"schedule.steps={steps}", f"output_dir={run}", *CYCLEGAN]
    if variant == "frames":  # random 128 px patches of whole frames, several per frame and epoch
        overrides.append("data.patches_per_image=4")
    start = time.time()
    train(load_config(HERE.parent / "larvae_sim2real.yaml", overrides), progress=False)
    (run / "train_seconds.txt").write_text(f"{time.time() - start:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["prepare", "cyclegan", "evaluate", "detectors"],
                        help="detectors: train and score only the detectors that need no CycleGAN (cached for evaluate)")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=6000, help="CycleGAN steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="detector seeds")
    parser.add_argument("--detector-steps", type=int, default=1000)
    parser.add_argument("--variant", choices=["crops", "frames"], default="crops",
                        help="what CycleGAN learns from: crops around larvae, or whole frames (see prepare)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.stage == "prepare":
        prepare(args.work, args.variant)
    elif args.stage == "cyclegan":
        train_cyclegan(args.work, args.steps, args.variant)
    else:
        from gain import evaluate

        results = evaluate(run_folder(args.work, args.variant), args.seeds, args.detector_steps,
                           without_cyclegan=args.stage == "detectors")
        print(json.dumps(results.get("summary", {}), indent=1))


if __name__ == "__main__":
    main()
