"""Simulated frames for the larva experiment: the matched rig (rig.yaml) at the experiment's
scale, and which seed each use draws from, so no simulated scene serves two purposes."""

from __future__ import annotations

import numpy as np

from real_frames import HERE, SCALE

from img2img.data.synthetic.zebrafish import load_rig, simulate_video

SEEDS = {"cyclegan": 1, "detector": 2, "held_out": 3}


def rig():
    return load_rig(HERE / "rig.yaml").scaled(SCALE)


def simulated(seed: int, videos: int, frames: int, every: int, larvae: int | None = None, first: int = 0):
    """Frames (every `every`-th of `frames`) of videos `first`..`first + videos - 1` of a seed, each
    frame's head positions (N, 2)."""
    r = rig() if larvae is None else rig().model_copy(update={"larvae": larvae})
    images, points = [], []
    for v in range(first, first + videos):
        pixels, rows = simulate_video(r, frames, seed=seed, video=v)
        for t in range(0, frames, every):
            images.append(pixels[t])
            points.append(np.array([[q["x"], q["y"]] for q in rows if q["frame"] == t]).reshape(-1, 2))
    return images, points
