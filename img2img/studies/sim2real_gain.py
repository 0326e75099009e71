"""Does CycleGAN sim -> real help a detector? The experiment of issue 3, end to end.

Simulated frames come with their larvae's positions; real recordings do not. If CycleGAN makes
the simulated frames look real while the larvae stay put, a detector trained on the translated
frames (with the simulated positions) should find larvae in real frames better than one trained
on the raw simulated frames. This module measures that on generated data:

1. `synth larvae`: CycleGAN training scenes (sim + real, unmatched), a larger set of simulated
   frames for the detector (with the realistic renders of the same seeds as an upper bound:
   "as if the real frames were annotated"), and held-out realistic test frames with positions.
2. CycleGAN sim -> real from `experiments/larvae_sim2real.yaml` (shrunk for a CPU by overrides).
3. The detector's simulated frames translated to the real style; positions kept from the JSON.
4. The same learned heat-map detector trained on raw sim, translated sim and real frames.
5. Point F1 (match within `radius` px) of each on the held-out realistic frames.

The test frames are never looked at before step 5, and the detector's threshold is fixed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tifffile

from img2img.studies.heatmap_detector import DetectorSettings, detect, train_detector
from img2img.evaluation.points import score_images

CYCLEGAN_CPU = [  # the experiment config shrunk to CPU size (docs/cyclegan.md)
    "model.generator.base_channels=16", "model.generator.n_blocks=3", "model.discriminator.base_channels=16",
    "data.patch_size=64", "data.num_workers=0", "trainer.val_every_steps=500",
]
SEEDS = {"cyclegan": 0, "test": 1, "detector": 2}  # one `synth larvae --seed` per use: no scene in two sets


def load_frames(folder: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Images, their larva centres (x, y) from the .json beside each, and the file names."""
    images, points, names = [], [], []
    for path in sorted(Path(folder).glob("*.tif")):
        truth = json.loads(path.with_suffix(".json").read_text())
        images.append(tifffile.imread(path))
        points.append(np.array([larva["centre"] for larva in truth["larvae"]], float).reshape(-1, 2))
        names.append(path.name)
    return images, points, names


def make_data(work: Path, n_cyclegan: int, n_detector: int, n_test: int, size: int) -> None:
    from img2img.data.synthetic import write_synthetic_dataset

    for name, n in (("cyclegan", n_cyclegan), ("detector", n_detector), ("test", n_test)):
        if not (work / name / "sim").is_dir():
            write_synthetic_dataset("larvae", work / name, n=n, seed=SEEDS[name], size=size, progress=False)


def train_cyclegan(work: Path, config: Path, steps: int, extra: list[str]) -> tuple[Path, float]:
    """Train (or reuse a finished run in work/cyclegan_run) and return last.ckpt and seconds."""
    from img2img.config import load_config
    from img2img.training import train

    run = work / "cyclegan_run"
    last = run / "checkpoints" / "last.ckpt"
    timing = run / "train_seconds.txt"
    if last.is_file() and timing.is_file():
        return last, float(timing.read_text())
    overrides = [f"data.a_dir={work / 'cyclegan' / 'sim'}", f"data.b_dir={work / 'cyclegan' / 'real'}",
                 f"schedule.steps={steps}", f"output_dir={run}", *CYCLEGAN_CPU, *extra]
    start = time.time()
    train(load_config(config, overrides), progress=False)
    seconds = time.time() - start
    timing.write_text(f"{seconds:.1f}")
    return last, seconds


def translate(checkpoint: Path, images: list[np.ndarray]) -> list[np.ndarray]:
    """A -> B (sim -> real) with the final CycleGAN weights, one whole frame per tile.

    The final weights, not best.ckpt: best.ckpt minimizes the cycle L1, which rewards mappings
    close to the identity, not realism."""
    from img2img.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(checkpoint, device="cpu", precision="32")
    return [predictor.predict(image) for image in images]


def run_experiment(work: Path, config: Path, cyclegan_steps: int = 3000, settings: DetectorSettings = DetectorSettings(),
                   radius: float = 5.0, n_cyclegan: int = 40, n_detector: int = 200, n_test: int = 50,
                   size: int = 128, extra: list[str] = (), log=print) -> dict:
    work = Path(work)
    make_data(work, n_cyclegan, n_detector, n_test, size)
    log(f"CycleGAN: {cyclegan_steps} steps on {n_cyclegan} + {n_cyclegan} scenes")
    checkpoint, cyclegan_seconds = train_cyclegan(work, config, cyclegan_steps, list(extra))
    log(f"CycleGAN trained in {cyclegan_seconds:.0f} s")

    sim, points, names = load_frames(work / "detector" / "sim")
    real, real_points, _ = load_frames(work / "detector" / "real")
    start = time.time()
    translated = translate(checkpoint, sim)
    translate_seconds = time.time() - start
    out = work / "translated"
    out.mkdir(exist_ok=True)
    for name, image in zip(names, translated):
        tifffile.imwrite(out / name, image)

    test_images, test_points, _ = load_frames(work / "test" / "real")
    test_sim, test_sim_points, _ = load_frames(work / "test" / "sim")
    training_sets = {"simulated": (sim, points), "translated": (translated, points), "real (upper bound)": (real, real_points)}
    results = {"settings": {"detector": asdict(settings), "radius_px": radius, "cyclegan_steps": cyclegan_steps,
                            "frames": {"cyclegan": n_cyclegan, "detector": n_detector, "test": n_test, "size": size}},
               "cyclegan_seconds": round(cyclegan_seconds, 1), "translate_seconds": round(translate_seconds, 1),
               "detectors": {}}
    detectors = {}
    for name, (images, pts) in training_sets.items():
        start = time.time()
        net = train_detector(images, pts, settings)
        seconds = time.time() - start
        detectors[name] = net
        on_real = score_images([detect(net, im, settings) for im in test_images], test_points, radius)
        on_sim = score_images([detect(net, im, settings) for im in test_sim], test_sim_points, radius)
        results["detectors"][name] = {"train_seconds": round(seconds, 1), "test_real": on_real.as_dict(),
                                      "test_sim": on_sim.as_dict()}
        log(f"detector trained on {name}: real-test F1 {on_real.f1:.3f} (P {on_real.precision:.3f}, "
            f"R {on_real.recall:.3f}), sim-test F1 {on_sim.f1:.3f}, {seconds:.0f} s")
    # Are the larvae still where the simulator put them? The real-trained detector on the translated frames.
    kept = score_images([detect(detectors["real (upper bound)"], im, settings) for im in translated], points, radius)
    results["positions_in_translated"] = kept.as_dict()
    log(f"real-trained detector on translated frames vs the simulated positions: F1 {kept.f1:.3f}, "
        f"offset {kept.mean_offset:.2f} px")
    (work / f"results_detector_seed{settings.seed}.json").write_text(json.dumps(results, indent=1))
    return results
