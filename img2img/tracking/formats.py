"""Training sets in DeepLabCut's multi-animal layout, from frames and positions.

DeepLabCut (maDLC, 2.2 and later) reads a project's labelled frames from
`labeled-data/VIDEO/imgNNNN.png` with `CollectedData_SCORER.csv` beside them: four header rows
(scorer, individuals, bodyparts, coords), then one row per frame whose first cell is the image's
path relative to the project; empty cells where an individual is absent. The project's own
`deeplabcut.convertcsv2h5(config)` turns the CSV into the .h5 it trains from, so no HDF5 library is
needed here. `dlc_project_settings` lists the individuals and body parts the project's config.yaml
must name.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from img2img.io.atomic import atomic_path

BODYPARTS = ("head",)


def image_name(frame: int) -> str:
    return f"img{frame:04d}.png"


def write_dlc_labels(folder: Path, video: str, rows: list[dict], frames: int, scorer: str) -> Path:
    """`folder/CollectedData_SCORER.csv` for one video's frames 0..frames-1 (images named by `image_name`)."""
    individuals = sorted({r["id"] for r in rows})
    columns = [(f"larva{i + 1}", part, coord) for i in individuals for part in BODYPARTS for coord in ("x", "y")]
    index = {column: k for k, column in enumerate(columns)}
    table = np.full((frames, len(columns)), np.nan)
    for r in rows:
        if 0 <= r["frame"] < frames:
            table[r["frame"], index[(f"larva{r['id'] + 1}", "head", "x")]] = r["x"]
            table[r["frame"], index[(f"larva{r['id'] + 1}", "head", "y")]] = r["y"]
    path = folder / f"CollectedData_{scorer}.csv"
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["scorer", *[scorer] * len(columns)])
        writer.writerow(["individuals", *[c[0] for c in columns]])
        writer.writerow(["bodyparts", *[c[1] for c in columns]])
        writer.writerow(["coords", *[c[2] for c in columns]])
        for t in range(frames):
            writer.writerow([f"labeled-data/{video}/{image_name(t)}", *["" if np.isnan(v) else f"{v:.2f}" for v in table[t]]])
    return path


def dlc_project_settings(individuals: int, scorer: str, videos: dict[str, tuple[int, int]]) -> dict:
    """What a DeepLabCut project's config.yaml must say to read these labels. `videos`: name ->
    (width, height). DeepLabCut finds labeled-data/NAME through `video_sets`, by the video's file
    stem, so each translated video gets an entry (the file itself is not needed to train)."""
    return {"scorer": scorer, "multianimalproject": True, "identity": False,
            "individuals": [f"larva{i + 1}" for i in range(individuals)], "uniquebodyparts": [],
            "multianimalbodyparts": list(BODYPARTS), "bodyparts": "MULTI!",
            "video_sets": {f"videos/{name}.mp4": {"crop": f"0, {w}, 0, {h}"} for name, (w, h) in videos.items()}}
