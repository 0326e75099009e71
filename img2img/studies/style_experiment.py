"""Photo <-> painting CycleGAN on generated collections, with a before/after measurement.

Training sees photos and paintings of different scenes (unpaired). The held-out test renders
each scene both ways (`render_pair`), so a translated photo can also be compared with the
painting of the very same scene, something real collections never allow.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from skimage.io import imread

from img2img.data.synthetic.photos import render_pair
from img2img.evaluation.style_transfer import (domain_b_probability, edge_correlation, histogram_distance,
                                               train_domain_classifier)

CYCLEGAN_CPU = [
    "model.generator.base_channels=16", "model.generator.n_blocks=3", "model.discriminator.base_channels=16",
    "data.patch_size=64", "data.num_workers=0", "trainer.val_every_steps=500",
]


def train_style_cyclegan(work: Path, config: Path, steps: int, n: int, size: int, extra: list[str]) -> tuple[Path, float]:
    """Synthesize the two collections and train (or reuse a finished run in work/run)."""
    from img2img.config import load_config
    from img2img.data.synthetic import write_synthetic_dataset
    from img2img.training import train

    data = work / "data"
    if not (data / "photo").is_dir():
        write_synthetic_dataset("photos", data, n=n, seed=0, size=size, progress=False)
    run = work / "run"
    last, timing = run / "checkpoints" / "last.ckpt", run / "train_seconds.txt"
    if last.is_file() and timing.is_file():
        return last, float(timing.read_text())
    overrides = [f"data.a_dir={data / 'photo'}", f"data.b_dir={data / 'painting'}", f"schedule.steps={steps}",
                 f"output_dir={run}", *CYCLEGAN_CPU, *extra]
    start = time.time()
    train(load_config(config, overrides), progress=False)
    seconds = time.time() - start
    timing.write_text(f"{seconds:.1f}")
    return last, seconds


def measure(checkpoint: Path, train_photos: list[np.ndarray], train_paintings: list[np.ndarray],
            n_test: int = 30, size: int = 128, seed: int = 1) -> tuple[dict, list, list, list, list]:
    """The metrics, and the translated photos, translated paintings, photos and paintings."""
    from img2img.inference.predictor import Predictor

    pairs = [render_pair(np.random.default_rng([seed, i]), size) for i in range(n_test)]
    photos, paintings = [p for p, _ in pairs], [q for _, q in pairs]
    to_painting = Predictor.from_checkpoint(checkpoint, device="cpu", precision="32")
    translated = [to_painting.predict(p) for p in photos]
    to_photo = Predictor.from_checkpoint(checkpoint, device="cpu", precision="32", direction="BtoA")
    back = [to_photo.predict(q) for q in paintings]
    classifier = train_domain_classifier(train_photos, train_paintings)
    unrelated = paintings[1:] + paintings[:1]  # a painting of another scene: the structure floor
    mean = lambda values: round(float(np.mean(values)), 4)  # noqa: E731
    mae = lambda xs, ys: round(float(np.mean([np.abs(x.astype(float) - y).mean() for x, y in zip(xs, ys)])), 2)  # noqa: E731
    return {
        "photo_to_painting": {
            "histogram_distance_to_paintings": {"photos (before)": round(histogram_distance(photos, paintings), 4),
                                                "translated (after)": round(histogram_distance(translated, paintings), 4),
                                                "training paintings (other scenes)": round(histogram_distance(train_paintings, paintings), 4)},
            "p_painting": {"photos (before)": round(domain_b_probability(classifier, photos), 4),
                           "translated (after)": round(domain_b_probability(classifier, translated), 4),
                           "paintings": round(domain_b_probability(classifier, paintings), 4)},
            "edge_correlation_to_input": {"translated": mean([edge_correlation(p, t) for p, t in zip(photos, translated)]),
                                   "painting of the same scene": mean([edge_correlation(p, q) for p, q in zip(photos, paintings)]),
                                   "painting of another scene": mean([edge_correlation(p, q) for p, q in zip(photos, unrelated)])},
            "mean_abs_error_to_painting_of_same_scene": {"photos (before)": mae(photos, paintings),
                                                         "translated (after)": mae(translated, paintings)},
        },
        "painting_to_photo": {
            "histogram_distance_to_photos": {"paintings (before)": round(histogram_distance(paintings, photos), 4),
                                             "translated (after)": round(histogram_distance(back, photos), 4)},
            "p_painting": {"paintings (before)": round(domain_b_probability(classifier, paintings), 4),
                           "translated (after)": round(domain_b_probability(classifier, back), 4)},
            "edge_correlation_to_input": {"translated": mean([edge_correlation(q, b) for q, b in zip(paintings, back)])},
        },
    }, translated, back, photos, paintings


def run_style_experiment(work: Path, config: Path, steps: int = 3000, n: int = 200, size: int = 128,
                         n_test: int = 30, extra: list[str] = (), log=print) -> dict:
    work = Path(work)
    checkpoint, seconds = train_style_cyclegan(work, config, steps, n, size, list(extra))
    log(f"CycleGAN trained in {seconds:.0f} s")
    load = lambda folder: [imread(p) for p in sorted((work / "data" / folder).glob("*.png"))]  # noqa: E731
    results, translated, back, photos, paintings = measure(checkpoint, load("photo"), load("painting"), n_test, size)
    results.update({"cyclegan_steps": steps, "cyclegan_seconds": round(seconds, 1), "train_images": n, "size": size})
    (work / "results.json").write_text(json.dumps(results, indent=1))
    _save_strip(work / "examples.png", photos[:4], translated[:4], paintings[:4], back[:4])
    return results


def _save_strip(path: Path, *columns: list[np.ndarray]) -> None:
    """Rows of photo | photo -> painting | painting of the same scene | painting -> photo."""
    from skimage.io import imsave

    imsave(path, np.concatenate([np.concatenate(row, 1) for row in zip(*columns)], 0), check_contrast=False)
