"""Rebuild the packaged nuclei segmenter (img2img/builtin/nuclei_segmenter.ckpt) in one command:

    python experiments/make_builtin_model.py [--workdir /tmp/img2img_builtin_nuclei]

It needs the DSB 2018 images beside the project (../shared/data/dsb2018, see docs/real_nuclei.md).
Steps: link the fixed train/val/test split into WORKDIR (experiments/real_nuclei/dsb2018.py;
histology and brightfield training images linked several times, REPEAT), train
experiments/builtin_nuclei.yaml on the training split (the validation split picks best.ckpt and,
after training, the decoding thresholds), write the checkpoint with float16 EMA generator weights
only (8 MB), and score it with Otsu + watershed on the test split, per modality:
WORKDIR/evaluation/report.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from img2img.config import load_config
from img2img.data.pairing import pair_files
from img2img.evaluation.decoding_fit import fit_decoding, store_decoding
from img2img.evaluation.evaluate import evaluate_segmentation
from img2img.evaluation.report import print_table, write_report
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_path
from img2img.models.checkpoint import load_model, read_checkpoint
from img2img.training import train

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments" / "real_nuclei"))
import dsb2018  # noqa: E402  (the split lives beside the experiment, not in the package)

CONFIG = ROOT / "experiments" / "builtin_nuclei.yaml"
DESTINATION = ROOT / "img2img" / "builtin" / "nuclei_segmenter.ckpt"
# Training links each histology image 3 times and each brightfield image 6 times, so the rare
# modalities are drawn more often (see dsb2018.make_folders).
REPEAT = {"histology": 3, "brightfield": 6}


def slim_checkpoint(source: Path, destination: Path) -> None:
    """Weights and hyperparameters only: the EMA generator (what inference runs) as the
    generator, floating-point tensors as float16, no discriminator (inference never runs it, and
    fine-tuning starts a fresh one): 8 MB instead of 75."""
    checkpoint = read_checkpoint(source)
    model = load_model(source)  # puts the EMA weights into the generator
    hparams = checkpoint["hyper_parameters"]
    hparams["config"]["trainer"]["ema_decay"] = None  # the averaged weights are the weights now
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()
             if not k.startswith("discriminator")}
    slim = {"state_dict": state, "hyper_parameters": hparams}
    if "model_card" in checkpoint:  # the training facts (img2img info, the napari tooltip) stay with the weights
        slim["model_card"] = checkpoint["model_card"]
    with atomic_path(destination) as tmp:
        torch.save(slim, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/img2img_builtin_nuclei"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value for an experiment, e.g. --set segmentation.encoding=distance")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in WORKDIR/run")
    parser.add_argument("--skip-training", action="store_true", help="use WORKDIR/run/checkpoints/best.ckpt as it is")
    parser.add_argument("--destination", type=Path, default=DESTINATION,
                        help="where the slim checkpoint goes (default: the packaged model)")
    parser.add_argument("--skip-test", action="store_true",
                        help="stop before scoring on the test split (for candidates still to be compared on validation)")
    parser.add_argument("--repeat", default=json.dumps(REPEAT), help="training links per modality, as JSON")
    args = parser.parse_args()
    work = args.workdir
    folders = dsb2018.make_folders(work / "data", repeat=json.loads(args.repeat))
    run = work / "run"
    best = run / "checkpoints" / "best.ckpt"
    facts = {}
    if not args.skip_training:
        config = load_config(CONFIG, overrides=[
            f"data.input_dir={folders['train'] / 'images'}", f"data.target_dir={folders['train'] / 'masks'}",
            f"data.val_input_dir={folders['val'] / 'images'}", f"data.val_target_dir={folders['val'] / 'masks'}",
            f"output_dir={run}", *args.overrides,
        ])
        start = time.time()
        best = train(config, resume=run / "checkpoints" / "last.ckpt" if args.resume else None)
        facts["training_minutes"] = round((time.time() - start) / 60, 1)
    facts["threads"] = torch.get_num_threads()
    if args.skip_training:  # training does it itself (segmentation.fit_decoding in the config)
        print("choosing decoding thresholds on the validation split")
        val_pairs = pair_files(folders["val"] / "images", folders["val"] / "masks")
        decoding, record = fit_decoding(Predictor.from_checkpoint(best), val_pairs)
        store_decoding(best, decoding)
        facts["decoding_fit"] = record
    facts["decoding"] = read_checkpoint(best)["hyper_parameters"]["config"]["segmentation"]["decoding"]
    print(json.dumps(facts, indent=1))
    slim_checkpoint(best, args.destination)
    facts["size_mb"] = round(args.destination.stat().st_size / 1e6, 1)
    if args.skip_test:
        print(f"wrote {args.destination} ({facts['size_mb']} MB); not scored on the test split")
        return

    print("scoring on the test split")
    evaluation = evaluate_segmentation(
        Predictor.from_checkpoint(args.destination), folders["test"] / "images", folders["test"] / "masks",
        baseline="otsu_watershed", groups=dsb2018.modality_groups("test"),
    )
    print_table(evaluation)
    report = write_report(evaluation, work / "evaluation", title="builtin:nuclei on the DSB 2018 test split",
                          notes=[f"Checkpoint: `{args.destination}`", f"Facts: {json.dumps(facts)}"], extra=facts)
    print(f"wrote {args.destination} ({facts['size_mb']} MB); report: {report}")


if __name__ == "__main__":
    main()
