"""Choosing a segmenter's decoding settings on its validation images.

The thresholds that turn the network's maps into instances (segmentation/encoding.py) trade
merges against splits and tight against loose outlines, and the best trade depends on how
sharp a trained network's maps came out. So after training they are chosen on the validation
images (never the test images): the network runs once per image, then each setting is only a
decoding. Coordinate search (one setting at a time over its grid, twice round) needs a few
dozen decodings instead of the thousands of a full grid.
"""

from __future__ import annotations

from pathlib import Path

import torch
from rich.progress import track

from img2img.config.schema import DecodingConfig
from img2img.segmentation.metrics import aggregate_scores, segmentation_scores
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_path
from img2img.io.images import read_image, read_labels
from img2img.models.checkpoint import read_checkpoint
from img2img.segmentation.encoding import decode_rescaled

GRID = {
    "foreground_threshold": (0.3, 0.4, 0.5, 0.6, 0.7),
    "seed_threshold": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    "smoothing": (0.0, 1.0, 1.5, 2.5, 3.5, 5.0),
    "min_size": (4, 8, 16, 32, 64, 96, 128),
    "contact_threshold": (0.3, 0.5, 0.7),
}
ROUNDS = 2  # passes over the settings in one fit
MAX_FITS = 3  # fits, each on maps made with the previous one's settings


def decoding_objective(summary: dict) -> float:
    """What the fit maximises: the mean of object F1 at IoU 0.5 (finding each nucleus once) and
    the DSB score (outlines that hold up to IoU 0.95)."""
    return 0.5 * (summary["f1"] + summary["dsb_score"])


def fit_decoding(predictor: Predictor, pairs: list[tuple[Path, Path]], progress: bool = True
                 ) -> tuple[DecodingConfig, dict]:
    """The decoding settings that score best on `pairs` (image, true mask), and a record of
    the search: the start and final objective and the scores of the final settings.

    The object size of each image is estimated from decoded masks, so the settings change the
    scale the network runs at too: the maps are made again with each fit's settings and the fit
    repeated from there until the settings stay (at most MAX_FITS times), so the record's scores
    are those `predict` gives with them. `predictor` keeps its own settings."""
    original = predictor.config.segmentation.decoding
    start = None
    try:
        for _ in range(MAX_FITS):
            decoding, record = _fit_on_maps(predictor, pairs, progress)
            start = record["start_objective"] if start is None else start
            if decoding == predictor.config.segmentation.decoding:
                break
            predictor.config.segmentation.decoding = decoding
    finally:
        predictor.config.segmentation.decoding = original
    return decoding, {**record, "start_objective": start}


def _fit_on_maps(predictor: Predictor, pairs: list[tuple[Path, Path]], progress: bool) -> tuple[DecodingConfig, dict]:
    cases = []
    for image_path, mask_path in track(pairs, description="network maps", disable=not progress):
        image = read_image(image_path)
        [(maps, scale)] = predictor.segmentation_maps(image.data, image.axes)
        cases.append((maps, scale, read_labels(mask_path)))

    def score(decoding: DecodingConfig) -> tuple[float, dict]:
        rows = [segmentation_scores(decode_rescaled(maps, decoding, scale), truth) for maps, scale, truth in cases]
        summary = aggregate_scores(rows)
        return decoding_objective(summary), summary

    names = [n for n in GRID if n != "contact_threshold" or cases[0][0].shape[0] == 3]
    best = predictor.config.segmentation.decoding
    best_value, best_summary = score(best)
    start = best_value
    for _ in range(ROUNDS):
        for name in track(names, description="decoding settings", disable=not progress):
            for value in GRID[name]:
                candidate = best.model_copy(update={name: value})
                if candidate == best:
                    continue
                objective, summary = score(candidate)
                if objective > best_value + 1e-9:
                    best, best_value, best_summary = candidate, objective, summary
    return best, {"start_objective": start, "objective": best_value, "f1": best_summary["f1"],
                  "dsb_score": best_summary["dsb_score"], "images": len(cases)}


def store_decoding(checkpoint: Path, decoding: DecodingConfig) -> None:
    """Write `decoding` into the checkpoint's config, so every later use of it decodes alike."""
    state = read_checkpoint(checkpoint)
    state["hyper_parameters"]["config"].setdefault("segmentation", {})["decoding"] = decoding.model_dump(mode="json")
    with atomic_path(Path(checkpoint)) as tmp:
        torch.save(state, tmp)
