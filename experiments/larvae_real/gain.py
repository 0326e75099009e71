"""`sim2real.py evaluate`: the same learned detector trained on raw simulations, on CycleGAN-
translated simulations and on the real training frames, scored on the held-out real frames;
a classical baseline; whether translation keeps the larvae where the simulator put them.

Detections match a true head within `RADIUS` px (at the experiments' half resolution: 10 px in
the 1024 px recording, less than the larva's head is wide). Scores are pooled over the 20 test
frames (one larva each), per detector seed, and written with per-frame detections to
WORK/results.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy import ndimage

from real_frames import FRAMES, load_real, shrink
from simulations import SEEDS, simulated

from img2img.studies.heatmap_detector import DetectorSettings, detect, predict_heat, train_detector
from img2img.evaluation.points import match_points, score_images
from img2img.tracking.flicker import flicker

RADIUS = 5.0
DETECTOR_CROP = 96  # px training crops: a larva (57 px) and its surroundings
EYE_DARK = 80  # grey levels: the real eyes are 120-190 below the dish, debris mostly less
DARKEST = 24  # pixels of the two eyes at half resolution (two 4.5 x 3.5 px ellipses halved)


def translate(run: Path, images: list[np.ndarray]) -> list[np.ndarray]:
    """A -> B with the final CycleGAN weights (best.ckpt minimizes the cycle loss, which rewards
    near-identity mappings, not realism)."""
    from img2img.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(run / "checkpoints" / "last.ckpt", device="cpu", precision="32")
    return [predictor.predict(image) for image in images]


def clip_background_baseline(test_files: list[str]) -> list[np.ndarray]:
    """What a lab without a learned detector does: the median of the whole clip is the empty
    dish; the larva is the largest region darker than it by 20 grey levels; its head is the
    centre of the darkest pixels (the eyes) in that region."""
    import tifffile

    clip = np.stack([shrink(tifffile.imread(p)) for p in sorted(FRAMES.glob("*.tif"))]).astype(np.float32)
    background = np.median(clip, 0)
    found = []
    for name in test_files:
        frame = shrink(tifffile.imread(FRAMES / name)).astype(np.float32)
        darker = ndimage.gaussian_filter(background - frame, 1.0)
        labels, n = ndimage.label(darker > 20)
        if n == 0:
            found.append(np.zeros((0, 2)))
            continue
        largest = labels == 1 + int(np.argmax(ndimage.sum(np.ones_like(darker), labels, range(1, n + 1))))
        values = np.where(largest, darker, -np.inf).ravel()
        top = np.argsort(values)[-DARKEST:]
        ys, xs = np.unravel_index(top, darker.shape)
        found.append(np.array([[xs.mean(), ys.mean()]]))
    return found


def eye_centre(image: np.ndarray, near: np.ndarray, half: int = 10) -> tuple[np.ndarray, float]:
    """Centre of the `DARKEST` darkest pixels within `half` px of `near`, and how much darker
    they are than the window's median: where a larva's eyes are, without any training."""
    x0, y0 = (int(round(v)) - half for v in near)
    window = ndimage.gaussian_filter(image.astype(np.float32), 0.7)[max(y0, 0) : y0 + 2 * half + 1, max(x0, 0) : x0 + 2 * half + 1]
    flat = np.argsort(window.ravel())[:DARKEST]
    ys, xs = np.unravel_index(flat, window.shape)
    contrast = float(np.median(window) - window.ravel()[flat].mean())
    return np.array([xs.mean() + max(x0, 0), ys.mean() + max(y0, 0)]), contrast


def positions_kept(raw: list[np.ndarray], translated: list[np.ndarray], points: list[np.ndarray]) -> dict:
    """Per simulated larva: the eye centre found near its true head in the raw and in the
    translated frame. Error = distance to the simulator's position; a larva counts as lost where
    its eyes' contrast fell below a third of the raw frame's."""
    errors = {"raw": [], "translated": []}
    lost = 0
    for r, t, pts in zip(raw, translated, points, strict=True):
        for p in pts:
            (found_raw, contrast_raw), (found_t, contrast_t) = eye_centre(r, p), eye_centre(t, p)
            errors["raw"].append(float(np.linalg.norm(found_raw - p)))
            errors["translated"].append(float(np.linalg.norm(found_t - p)))
            lost += contrast_t < contrast_raw / 3
    invented = {name: _dark_blobs_away(frames, points) for name, frames in (("raw", raw), ("translated", translated))}
    n = len(errors["raw"])
    return {"larvae": n, "lost": int(lost), "lost_rate": round(lost / max(n, 1), 4),
            "error_px": {k: {"mean": round(float(np.mean(v)), 3), "median": round(float(np.median(v)), 3),
                             "p95": round(float(np.percentile(v, 95)), 3)} for k, v in errors.items()},
            "dark_blobs_away_from_larvae_per_frame": invented}


def _dark_blobs_away(frames: list[np.ndarray], points: list[np.ndarray]) -> float:
    """Eye-dark blobs farther than 15 px from every simulated head, per frame: dark debris in
    both, and larvae the translation invented in the translated frames. Eye-dark: more than
    `EYE_DARK` grey levels below the local background (black top-hat over 9 px), 3 px or more."""
    count = 0
    for frame, pts in zip(frames, points, strict=True):
        grey = ndimage.gaussian_filter(frame.astype(np.float32), 1.0)
        dark = ndimage.grey_closing(grey, size=(9, 9)) - grey > EYE_DARK
        labels, n = ndimage.label(dark)
        if n == 0:
            continue
        index = np.arange(1, n + 1)
        keep = ndimage.sum(dark, labels, index) >= 3
        found = np.array(ndimage.center_of_mass(dark, labels, index)).reshape(-1, 2)[keep][:, ::-1]
        if len(found):
            distance = np.linalg.norm(found[:, None] - pts[None], axis=2).min(1) if len(pts) else np.full(len(found), np.inf)
            count += int((distance > 15).sum())
    return round(count / max(len(frames), 1), 3)


def flicker_table(run: Path, videos: int = 2, frames: int = 20) -> dict:
    """Frame-to-frame change of still pixels (grey levels, 40 px away from larvae at full size,
    20 px here) in the real clip, in held-out simulated videos and in their translations."""
    real, real_points, _ = load_real()
    rows = lambda points: [{"frame": t, "x": p[0], "y": p[1]} for t, pts in enumerate(points) for p in pts]  # noqa: E731
    out = {"real": round(flicker(real, rows(real_points), keep_away=20), 3), "simulated": [], "translated": []}
    for v in range(videos):
        sim, points = simulated(SEEDS["held_out"] + 100, videos=1, frames=frames, every=1, first=v)
        out["simulated"].append(round(flicker(sim, rows(points), keep_away=20), 3))
        out["translated"].append(round(flicker(translate(run, sim), rows(points), keep_away=20), 3))
    return out


def top1_hit_rate(net, frames, truth) -> float:
    """Share of frames whose highest heat-map peak lies within RADIUS of the larva: localization
    without the fixed threshold, as a tracker told how many animals there are would use it."""
    hits = 0
    for image, points in zip(frames, truth, strict=True):
        heat = predict_heat(net, image)
        y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
        hits += bool(len(points)) and float(np.linalg.norm(points - [x, y], axis=1).min()) <= RADIUS
    return round(hits / max(len(frames), 1), 4)


def detector_score(images, points, test, test_points, test_files, seed: int, steps: int, cache: Path,
                   also: dict | None = None) -> dict:
    """Train one detector and score it on the test frames (and on each (images, points) of
    `also`, pooled); kept in `cache` (a JSON file), so a detector that does not depend on the
    CycleGAN is trained once for all runs."""
    if cache.is_file():
        return json.loads(cache.read_text())
    settings = DetectorSettings(steps=steps, crop=DETECTOR_CROP, seed=seed)
    start = time.time()
    net = train_detector(images, points, settings)
    found = [detect(net, image, settings) for image in test]
    score = score_images(found, test_points, RADIUS)
    result = {**score.as_dict(), "train_seconds": round(time.time() - start, 1),
              "per_frame": [{"file": f, "found": d.round(1).tolist(), **match_points(d, t, RADIUS).as_dict()}
                            for f, d, t in zip(test_files, found, test_points, strict=True)]}
    result["top1_hit_rate"] = top1_hit_rate(net, test, test_points)
    for name, (frames, truth) in (also or {}).items():
        result[name] = {**score_images([detect(net, image, settings) for image in frames], truth, RADIUS).as_dict(),
                        "top1_hit_rate": top1_hit_rate(net, frames, truth)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result


def evaluate(run: Path, seeds: list[int], detector_steps: int, without_cyclegan: bool = False) -> dict:
    """The detectors, baseline and position checks for the CycleGAN run in `run`; results.json
    and the figure are written there. `without_cyclegan`: only the detectors that need no
    translation (raw simulations, real frames), cached in the run's parent folder."""
    real_train, real_train_points, _ = load_real("train")
    test, test_points, test_files = load_real("test")
    all_real, all_real_points, _ = load_real()
    sim, sim_points = simulated(SEEDS["detector"], videos=40, frames=26, every=5)
    sets = {"simulated": (sim, sim_points), "real frames (upper bound)": (real_train, real_train_points)}
    results = {"radius_px": RADIUS, "scale": 0.5, "test_frames": test_files,
               "frames": {"simulated": len(sim), "real_train": len(real_train), "test": len(test)}, "detectors": {}}
    if not without_cyclegan:
        start = time.time()
        translated = translate(run, sim)
        results["translate_seconds"] = round(time.time() - start, 1)
        sets = {"simulated": sets["simulated"], "translated": (translated, sim_points), **sets}
    for name, (images, points) in sets.items():
        for seed in seeds:
            folder = run if name == "translated" else run.parent
            cache = folder / "detectors" / f"{name.split()[0]}_seed{seed}_steps{detector_steps}_crop{DETECTOR_CROP}.json"
            # Detectors that never saw a real frame are also scored on all 98 (more poses, the still phase).
            also = {} if name.startswith("real") else {"all_real_frames": (all_real, all_real_points)}
            score = detector_score(images, points, test, test_points, test_files, seed, detector_steps, cache, also)
            results["detectors"].setdefault(name, {})[seed] = score
            print(f"{name}, seed {seed}: F1 {score['f1']:.3f} (P {score['precision']:.3f}, R {score['recall']:.3f}), "
                  f"{score['train_seconds']:.0f} s", flush=True)
    if without_cyclegan:
        return results
    held, held_points = simulated(SEEDS["held_out"], videos=10, frames=16, every=5)
    results["frames"]["held_out_sim"] = len(held)
    held_translated = translate(run, held)
    results["flicker"] = flicker_table(run)
    baseline = clip_background_baseline(test_files)
    results["clip_background_baseline"] = score_images(baseline, test_points, RADIUS).as_dict()
    results["positions_kept"] = positions_kept(held, held_translated, held_points)
    f1 = {name: [results["detectors"][name][s]["f1"] for s in seeds] for name in sets}
    f1_all = {name: [results["detectors"][name][s]["all_real_frames"]["f1"] for s in seeds]
              for name in ("simulated", "translated")}
    top1 = {name: [results["detectors"][name][s]["top1_hit_rate"] for s in seeds] for name in sets}
    results["summary"] = {
        "f1_per_seed": f1, "f1_mean_std": {k: [round(float(np.mean(v)), 3), round(float(np.std(v)), 3)] for k, v in f1.items()},
        "gain_per_seed": [round(t - s, 3) for t, s in zip(f1["translated"], f1["simulated"], strict=True)],
        "f1_all_98_real_frames_per_seed": f1_all, "top1_hit_rate_per_seed": top1,
        "clip_background_baseline_f1": results["clip_background_baseline"]["f1"], "flicker": results["flicker"],
        "positions_kept": {k: results["positions_kept"][k] for k in ("lost_rate", "error_px")},
        "detector": asdict(DetectorSettings(steps=detector_steps, crop=DETECTOR_CROP)),
    }
    (run / "results.json").write_text(json.dumps(results, indent=1))
    _figure(run, sim, translated, test)
    return results


def _figure(run: Path, sim, translated, real) -> None:
    """Crops side by side: simulated | translated (same frames) | real test frames, as a PNG."""
    import cv2

    rows = []
    for i in range(4):
        s, t = sim[i * 10], translated[i * 10]
        r = real[i * 5]
        rows.append(np.hstack([cv2.resize(a, (256, 256), interpolation=cv2.INTER_AREA) for a in (s, t, r)]))
    cv2.imwrite(str(run / "sim_translated_real.png"), np.vstack(rows))
