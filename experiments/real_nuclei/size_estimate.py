"""How well `--diameter auto` measures nuclei: the estimated object diameter of each validation
image against the median diameter of its true mask.

    python experiments/real_nuclei/size_estimate.py CKPT [--split val]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

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
    predictor = Predictor.from_checkpoint(args.checkpoint)
    ratios: dict[str, list[float]] = {}
    for image_id, modality in sorted(dsb2018.modality_groups(args.split).items()):
        image = read_image(folder / "images" / f"{image_id}.png")
        predictor.segmentation_maps(image.data, image.axes)
        estimate = predictor.object_scale.last_diameter
        truth = median_diameter(read_labels(folder / "masks" / f"{image_id}.tif"))
        ratios.setdefault(modality, []).append(estimate / truth if estimate and truth else np.nan)
    print("| modality | images | median estimate / truth | within 20 % | worst ratio |\n| --- | ---: | ---: | ---: | ---: |")
    for modality, values in sorted(ratios.items()) + [("all", sum(ratios.values(), []))]:
        v = np.asarray(values, float)
        worst = v[np.nanargmax(np.abs(np.log(v)))]
        print(f"| {modality} | {len(v)} | {np.nanmedian(v):.2f} | {np.mean(np.abs(np.log(v)) < np.log(1.2)):.0%} | {worst:.2f} |")


if __name__ == "__main__":
    main()
