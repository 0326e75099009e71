"""Simulated videos: frames with several swimming larvae and where each larva's head is.

A video's dish, debris and larvae are drawn once from `np.random.default_rng([seed, video])`;
each frame differs only by the larvae's motion and the camera noise, as in a real recording.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from img2img.data.synthetic.zebrafish.drawing import camera, dish_light, larva_absorption
from img2img.data.synthetic.zebrafish.rig import Rig
from img2img.data.synthetic.common import check_empty, maybe_track
from img2img.data.synthetic.zebrafish.swimming import swim
from img2img.io.atomic import atomic_path
from img2img.io.images import write_image
from img2img.io.positions import write_positions



def simulate_video(rig: Rig, frames: int, seed: int = 0, video: int = 0) -> tuple[np.ndarray, list[dict]]:
    """(frames, H, W) uint8 and one row per larva and frame: frame, id, x, y, heading_deg."""
    rng = np.random.default_rng([seed, video])
    light, centre, radius = dish_light(rng, rig)
    lengths = rig.larva.length * np.clip(1 + rig.larva.length_spread * rng.standard_normal(rig.larvae), 0.5, 1.5)
    starts = _apart(rng, rig.larvae, centre, radius - rig.larva.length * 0.7, rig.larva.length * 0.8)
    paths = [swim(rng, rig, frames, centre, radius, start) for start in starts]
    rest_bend = rng.normal(0, np.deg2rad(6), rig.larvae)
    window = int(np.ceil(rig.larva.length * 2.2)) | 1
    video_frames, rows = np.zeros((frames, rig.frame_size, rig.frame_size), np.uint8), []
    for t in range(frames):
        transmission = np.ones_like(light)
        for i, path in enumerate(paths):
            x, y = path.xy[t]
            # the window's centre sits behind the head, where most of the body is
            behind = path.xy[t] - 0.4 * lengths[i] * np.array([np.cos(path.heading[t]), np.sin(path.heading[t])])
            corner = np.floor(behind).astype(int) - window // 2
            offset = corner + window / 2 - path.xy[t]
            swing = rest_bend[i] + np.deg2rad(rig.swimming.tail_beat) * min(1.0, path.speed[t] / max(rig.swimming.bout_speed, 1e-6))
            absorb = larva_absorption(rig, lengths[i], path.heading[t], swing, path.tail_phase[t], offset, window)
            _multiply(transmission, 1 - absorb, corner)
            rows.append({"frame": t, "id": i, "x": round(float(x), 2), "y": round(float(y), 2),
                         "heading_deg": round(float(np.rad2deg(path.heading[t])), 1)})
        video_frames[t] = camera(rng, rig, light * transmission)
    return video_frames, rows


def _apart(rng: np.random.Generator, count: int, centre: np.ndarray, radius: float, gap: float) -> list[np.ndarray]:
    """Start points inside the dish, at least `gap` apart where there is room."""
    points: list[np.ndarray] = []
    for _ in range(count):
        for _attempt in range(200):
            r, a = radius * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
            candidate = centre + r * np.array([np.cos(a), np.sin(a)])
            if all(np.linalg.norm(candidate - q) >= gap for q in points):
                break
        points.append(candidate)
    return points


def _multiply(target: np.ndarray, patch: np.ndarray, corner: np.ndarray) -> None:
    """target[window at corner] *= patch, clipped at the frame's edges."""
    y0, x0 = corner[1], corner[0]
    h, w = patch.shape
    ty0, tx0, ty1, tx1 = max(y0, 0), max(x0, 0), min(y0 + h, target.shape[0]), min(x0 + w, target.shape[1])
    if ty1 > ty0 and tx1 > tx0:
        target[ty0:ty1, tx0:tx1] *= patch[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0]


def write_videos(output: Path | str, rig: Rig, videos: int, frames: int, seed: int = 0, progress: bool = True) -> list[Path]:
    """OUTPUT/video_NNN/frame_NNNN.tif and OUTPUT/video_NNN/positions.csv per video, and
    OUTPUT/rig.yaml with every setting used. Returns the video folders. A folder that already holds
    files is refused: new videos among old ones would mix two rigs under one rig.yaml."""
    output = Path(output)
    check_empty(output)
    output.mkdir(parents=True, exist_ok=True)
    with atomic_path(output / "rig.yaml") as tmp:
        tmp.write_text(yaml.safe_dump(rig.model_dump(mode="json"), sort_keys=False))
    folders = []
    for v in maybe_track(range(videos), f"Simulating {videos} video(s) of {frames} frames", progress):
        folder = output / f"video_{v:03d}"
        folder.mkdir(exist_ok=True)
        pixels, rows = simulate_video(rig, frames, seed=seed, video=v)
        for t, frame in enumerate(pixels):
            write_image(folder / f"frame_{t:04d}.tif", frame)
        write_positions(folder / "positions.csv", rows)  # last: a video without it is incomplete
        folders.append(folder)
    return folders
