"""The real recording and its ground truth, as the experiments read them.

Frames come from ../shared/data/larvae_real/onefish_trial1 (never copied into the project),
positions from onefish_trial1_positions.csv beside this file (made by ground_truth.py). Both are
shrunk by `SCALE`: the larva is 115 px long in the 1024 px frames; at half size it is 57 px with
eyes of 4 px, enough for a detector, and CycleGAN and the detectors run four times faster.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import tifffile

HERE = Path(__file__).resolve().parent
FRAMES = HERE.parents[1].parent / "shared" / "data" / "larvae_real" / "onefish_trial1"
POSITIONS = HERE / "onefish_trial1_positions.csv"
SCALE = 0.5


def shrink(image: np.ndarray, scale: float = SCALE) -> np.ndarray:
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def load_real(split: str | None = None, folder: Path = FRAMES) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Frames at `SCALE`, the head position (x, y) of the larva in each at `SCALE` as a (1, 2)
    array, and the file names; `split` "train" or "test" picks that block of frames."""
    if not Path(folder).is_dir():
        raise SystemExit(f"{folder}: the real larva frames are missing; see ../shared/data/README.md")
    with open(POSITIONS, newline="") as handle:
        rows = [r for r in csv.DictReader(line for line in handle if not line.startswith("#"))]
    rows = [r for r in rows if split is None or r["split"] == split]
    images = [shrink(tifffile.imread(Path(folder) / r["file"])) for r in rows]
    points = [np.array([[float(r["head_x"]), float(r["head_y"])]]) * SCALE for r in rows]
    return images, points, [r["file"] for r in rows]
