"""Compare trained segmenters on the DSB 2018 validation split only (the test split stays unseen
until one model is chosen): for each checkpoint, choose its decoding thresholds on the validation
images, then report F1 at IoU 0.5 and the DSB score per modality.

    python experiments/real_nuclei/compare_on_val.py RUN_A/checkpoints/best.ckpt RUN_B/checkpoints/best.ckpt

Both numbers are optimistic in the same way for every model (thresholds fitted on the images
they are scored on), which is what a fair choice between models needs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from img2img.data.pairing import pair_files
from img2img.evaluation.decoding_fit import fit_decoding
from img2img.evaluation.evaluate import evaluate_segmentation
from img2img.inference.predictor import Predictor

import dsb2018


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--tta", action="store_true", help="average the 8 flips and turns (Predictor tta)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "img2img_dsb_folders")
    args = parser.parse_args()
    val = dsb2018.make_folders(args.workdir, splits=("val",))["val"]
    groups = dsb2018.modality_groups("val")
    rows = []
    for checkpoint in args.checkpoints:
        predictor = Predictor.from_checkpoint(checkpoint, tta=args.tta)
        decoding, record = fit_decoding(predictor, pair_files(val / "images", val / "masks"))
        predictor.config.segmentation.decoding = decoding
        evaluation = evaluate_segmentation(predictor, val / "images", val / "masks", baseline="otsu_watershed",
                                           groups=groups, n_examples=0)
        row = {"checkpoint": str(checkpoint), "tta": args.tta, "decoding": decoding.model_dump(), **record}
        for group, scores in evaluation.by_group.items():
            row[group] = {k: round(scores["model"][k], 3) for k in ("f1", "dsb_score")}
        row["all"] = {k: round(evaluation.summary["model"][k], 3) for k in ("f1", "dsb_score")}
        rows.append(row)
        print(json.dumps(row))
    columns = ("all", *sorted(set(groups.values())))
    print("| checkpoint | " + " | ".join(f"{g} F1 / DSB" for g in columns) + " |")
    for row in rows:
        cells = [f"{row[g]['f1']:.3f} / {row[g]['dsb_score']:.3f}" for g in columns]
        print(f"| {row['checkpoint']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
