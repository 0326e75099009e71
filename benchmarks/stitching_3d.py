"""3D objects from a 2D segmenter on Z stacks: F1 of the planes scored in 2D against the stitched
3D objects scored in 3D, at several IoU thresholds, on generated stacks of touching nuclei.

    python benchmarks/stitching_3d.py --layers 1 --seeds 1 2 3     # cells on a coverslip (default data)
    python benchmarks/stitching_3d.py --layers 0 --seeds 1 2 3     # tissue: nuclei also above each other

`builtin:nuclei` segments each plane (float32, diameter measured per plane); the planes are then
stitched (`segmentation.stitching.stitch_volume`) at each threshold. 2D: every plane's objects
matched to that plane's true sections at IoU 0.5, counts pooled over planes and stacks. 3D: objects
matched to the true nuclei by 3D IoU 0.5, pooled over stacks. Prints a markdown table.
"""

from __future__ import annotations

import argparse

import numpy as np

from img2img.builtin import builtin_model_path
from img2img.data.synthetic.nuclei3d import render_nuclei_3d
from img2img.segmentation.metrics import aggregate_scores, segmentation_scores
from img2img.inference import Predictor
from img2img.segmentation.stitching import stitch_volume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=1, help="1: a layer of cells; N: N layers; 0: tissue")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--shape", type=int, nargs=3, default=[24, 192, 192], metavar=("Z", "Y", "X"))
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.25, 0.4, 0.5])
    args = parser.parse_args()
    predictor = Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32", stitch="off")
    stacks = []
    for seed in args.seeds:
        image, truth = render_nuclei_3d(np.random.default_rng(seed), tuple(args.shape), layers=args.layers)
        stacks.append((predictor.predict(image, "ZYX"), truth))
    planes_2d = aggregate_scores([segmentation_scores(p[z], t[z]) for p, t in stacks for z in range(len(t))])
    print("| stack | 2D F1 per plane | " + " | ".join(f"3D F1 at IoU {th:g}" for th in args.thresholds) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in args.thresholds) + " |")
    cells = []
    for threshold in args.thresholds:
        scores = aggregate_scores([segmentation_scores(stitch_volume(p, threshold), t) for p, t in stacks])
        cells.append(f"{scores['f1']:.3f} (P {scores['precision']:.2f}, R {scores['recall']:.2f})")
    print(f"| layers={args.layers}, seeds {args.seeds} | {planes_2d['f1']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
