"""How well `--diameter auto` measures nuclei, and what its misses cost: for each image of a
split, the estimated object diameter against the median diameter of its true mask, and F1@0.5
and the DSB score with the estimate against those with the true diameter given (an oracle no
user has, so the gap is the most a better estimate could gain).

    python experiments/real_nuclei/size_estimate.py CKPT [--split val]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from img2img.segmentation.metrics import aggregate_scores, segmentation_scores
from img2img.inference.predictor import Predictor
from img2img.io.images import read_image, read_labels
from img2img.segmentation.object_size import median_diameter

import dsb2018


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--split", default="val", choices=["val", "test"])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "img2img_dsb_folders")
    args = parser.parse_args()
    folder = dsb2018.make_folders(args.workdir, splits=(args.split,))[args.split]
    auto = Predictor.from_checkpoint(args.checkpoint)
    ratios: dict[str, list[float]] = {}
    scores: dict[str, dict[str, list[dict]]] = {}
    for image_id, modality in sorted(dsb2018.modality_groups(args.split).items()):
        image = read_image(folder / "images" / f"{image_id}.png")
        true = read_labels(folder / "masks" / f"{image_id}.tif")
        truth = median_diameter(true)
        labels = auto.predict(image.data, image.axes)
        estimate = auto.object_scale.last_diameter
        ratios.setdefault(modality, []).append(estimate / truth if estimate and truth else np.nan)
        oracle = Predictor.from_checkpoint(args.checkpoint, diameter=truth)
        per = scores.setdefault(modality, {"auto": [], "true": []})
        per["auto"].append(segmentation_scores(labels, true))
        per["true"].append(segmentation_scores(oracle.predict(image.data, image.axes), true))

    print("| modality | images | median estimate / truth | within 20 % | worst ratio | F1@0.5 auto / true diameter "
          "| DSB score auto / true diameter |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    everything = {"auto": [], "true": []}
    for modality in sorted(ratios):
        for kind in everything:
            everything[kind] += scores[modality][kind]
    for modality, values in sorted(ratios.items()) + [("all", sum(ratios.values(), []))]:
        v = np.asarray(values, float)
        worst = v[np.nanargmax(np.abs(np.log(v)))]
        per = scores.get(modality, everything)
        f1 = [aggregate_scores(per[k])["f1"] for k in ("auto", "true")]
        dsb = [np.mean([s["dsb_score"] for s in per[k]]) for k in ("auto", "true")]
        print(f"| {modality} | {len(v)} | {np.nanmedian(v):.2f} | {np.mean(np.abs(np.log(v)) < np.log(1.2)):.0%} | "
              f"{worst:.2f} | {f1[0]:.3f} / {f1[1]:.3f} | {dsb[0]:.3f} / {dsb[1]:.3f} |")


if __name__ == "__main__":
    main()
