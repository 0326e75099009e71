"""Fine-tuning from builtin:nuclei against training from scratch, on 3 annotated images of one
modality (issue 13, item 4): what a biologist with a few annotations of their own gets.

    python experiments/real_nuclei/fine_tune_few.py [--modality histology] [--steps 600]

The 3 images are the first 3 of the modality's validation split (images the built-in model never
trained on); both runs get the same config, steps and seed, and hold back one piece of each image
for their own validation (val_fraction 0). All three models (built-in as it is, fine-tuned,
scratch) are then scored on that modality's test images.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from img2img.config import load_config
from img2img.evaluation.evaluate import evaluate_segmentation
from img2img.inference.predictor import Predictor
from img2img.training import train

import dsb2018

CONFIG = Path(__file__).resolve().parents[1] / "builtin_nuclei.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", default="histology", choices=sorted(set(dsb2018.MODALITIES.values())))
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--start", default="builtin:nuclei", help="the model fine-tuning starts from")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "img2img_fine_tune_few")
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    few = dsb2018.make_folders(args.workdir / "few", splits=("val",), modality=args.modality, limit=args.images)["val"]
    test = dsb2018.make_folders(args.workdir / "test", splits=("test",), modality=args.modality)["test"]
    common = [f"data.input_dir={few / 'images'}", f"data.target_dir={few / 'masks'}", "data.val_input_dir=null",
              "data.val_target_dir=null", "data.val_fraction=0", f"schedule.steps={args.steps}",
              f"trainer.val_every_steps={max(1, args.steps // 6)}"]
    results = {}
    for name, extra in (("fine-tuned", [f"init_from={args.start}"]), ("scratch", [])):
        config = load_config(CONFIG, overrides=[*common, *extra, f"output_dir={args.workdir / name}"])
        start = time.time()
        best = train(config)
        results[name] = {"checkpoint": str(best), "minutes": round((time.time() - start) / 60, 1)}
    results[f"{args.start} as it is"] = {"checkpoint": args.start, "minutes": 0}
    rows = []
    for name, facts in results.items():
        evaluation = evaluate_segmentation(Predictor.from_checkpoint(facts["checkpoint"]), test / "images",
                                           test / "masks", baseline="otsu_watershed", n_examples=0)
        model = evaluation.summary["model"]
        facts.update(f1=round(model["f1"], 3), dsb_score=round(model["dsb_score"], 3),
                     per_image_f1=[round(r["model"]["f1"], 3) for r in evaluation.per_image])
        rows.append(f"| {name} | {facts['minutes']} | {model['f1']:.3f} | {model['dsb_score']:.3f} |")
        baseline = evaluation.summary["baseline"]
    rows.append(f"| Otsu + watershed | 0 | {baseline['f1']:.3f} | {baseline['dsb_score']:.3f} |")
    print(json.dumps(results, indent=1))
    print(f"{args.images} {args.modality} images, {args.steps} steps; scored on {len(evaluation.per_image)} "
          f"{args.modality} test images")
    print("| model | training (min) | F1@0.5 | DSB score |\n| --- | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
