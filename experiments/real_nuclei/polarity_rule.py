"""The Otsu baseline's auto polarity (`has_dark_background`) on the DSB 2018 TRAINING split only:
how often it agrees with the modality (fluorescence = bright nuclei; histology, brightfield = dark),
and Otsu + watershed scores with auto polarity against fixed bright objects. About 1.5 min on 2 cores.

    python experiments/real_nuclei/polarity_rule.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsb2018 import DATA, read_split  # noqa: E402

from img2img.evaluation.baselines import _grey, has_dark_background, otsu_watershed  # noqa: E402
from img2img.segmentation.metrics import aggregate_by_group, aggregate_scores, segmentation_scores  # noqa: E402
from img2img.io.images import read_image, read_labels  # noqa: E402


def main() -> None:
    rows = [r for r in read_split() if r["split"] == "train"]
    modality = {r["id"]: r["modality"] for r in rows}
    agree: dict[str, list[bool]] = {}
    scores: dict[str, list[dict]] = {"auto": [], "bright": []}
    for r in rows:
        image = read_image(DATA / "images" / f"{r['id']}.png").data
        truth = read_labels(DATA / "masks" / f"{r['id']}.tif")
        bright = has_dark_background(ndimage.gaussian_filter(_grey(image), 1.0))  # as otsu_watershed sees it
        agree.setdefault(r["modality"], []).append(bright == (r["modality"] == "fluorescence"))
        for name, polarity in (("auto", "auto"), ("bright", True)):
            labels = otsu_watershed(image, bright_objects=polarity)
            scores[name].append({"name": r["id"], **segmentation_scores(labels, truth)})
    total = sum(sum(v) for v in agree.values())
    print(f"auto polarity agrees with the modality on {total}/{len(rows)} training images:",
          ", ".join(f"{m} {sum(v)}/{len(v)}" for m, v in sorted(agree.items())))
    for name, per_image in scores.items():
        groups = {"all": aggregate_scores(per_image), **aggregate_by_group(per_image, modality)}
        for group, s in groups.items():
            print(f"otsu_watershed {name:6s} {group:12s} n={s['n_images']:3d} F1@0.5 {s['f1']:.3f} "
                  f"DSB {s['dsb_score']:.3f} PQ {s['pq']:.3f}")


if __name__ == "__main__":
    main()
