"""The `img2img` command. Thin: each subcommand parses arguments and calls the library.

A `UserError` anywhere becomes one line on stderr and exit code 2; a file that fails during
a batch run makes the exit code 1 after the rest were processed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from img2img import __version__
from img2img.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable folder, disk full, a file where a folder should be
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="img2img", description="Image-to-image translation for scientific imaging.")
    parser.add_argument("--version", action="version", version=f"img2img {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write a synthetic paired data set (images/ and masks/ or targets/)")
    p.add_argument("kind", choices=["cells", "fins", "denoise"],
                   help="cells: 16-bit nuclei microscopy; fins: RGB sea photos with dolphins; "
                        "denoise: low-light noisy nuclei (images/) and the clean scene (targets/), 16-bit")
    p.add_argument("--output", required=True, type=Path, help="folder to create")
    p.add_argument("--n", type=int, default=200, help="number of images (default 200)")
    p.add_argument("--size", type=int, default=None, help="square size in pixels (default: random 256-1024 per side)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run_synth)

    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("config", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set schedule.steps=500 (repeatable)")
    p.add_argument("--resume", type=Path, help="continue from a checkpoint (e.g. OUTPUT/checkpoints/last.ckpt)")
    p.set_defaults(run=run_train)

    p = sub.add_parser("infer", help="run a trained model on images or folders")
    p.add_argument("inputs", nargs="+", type=Path, help="image files and/or folders")
    p.add_argument("--model", required=True, type=Path, help="checkpoint (.ckpt) from 'img2img train'")
    p.add_argument("--output", required=True, type=Path, help="folder for the results (same names, .tif)")
    p.add_argument("--pattern", default="*", help="glob for files inside input folders (default: all images)")
    p.add_argument("--probabilities", action="store_true", help="also write NAME_probabilities.tif (float32)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.set_defaults(run=run_infer)

    p = sub.add_parser("evaluate", help="score a model and a classical baseline against ground truth")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--input", required=True, type=Path, help="folder of images")
    p.add_argument("--target", required=True, type=Path, help="folder of true instance masks, or target images (same names)")
    p.add_argument("--output", type=Path, help="folder for metrics.json, report.md, figure.png (default: next to the checkpoint)")
    p.add_argument("--baseline", help="segmentation: otsu_watershed or color_kmeans (default: by channel count); "
                                      "translation: gaussian or nl_means (default: both)")
    p.add_argument("--pattern", default="*")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=run_evaluate)

    p = sub.add_parser("demo", help="synthesize data, train Pix2Pix briefly, segment held-out images, write a report")
    p.add_argument("--output", type=Path, default=Path("demo_output"))
    p.add_argument("--steps", type=int, default=None, help="training steps (default: a few minutes on a CPU)")
    p.add_argument("--n-train", type=int, default=None)
    p.set_defaults(run=run_demo)
    return parser


def run_synth(args) -> int:
    from img2img.data.synthetic import TARGET_FOLDER, write_synthetic_dataset

    paths = write_synthetic_dataset(args.kind, args.output, n=args.n, seed=args.seed, size=args.size)
    targets = TARGET_FOLDER[args.kind]
    print(f"wrote {len(paths)} images to {args.output / 'images'} and {targets} to {args.output / targets}")
    return 0


def run_train(args) -> int:
    from img2img.config import load_config
    from img2img.training import train

    config = load_config(args.config, args.overrides)
    start = time.time()
    best = train(config, resume=args.resume)
    print(f"trained in {time.time() - start:.0f} s; best checkpoint: {best}")
    return 0


def run_infer(args) -> int:
    from img2img.inference.predictor import Predictor, plan_outputs
    from img2img.io.images import IMAGE_SUFFIXES, list_images

    sources: list[Path] = []
    for item in args.inputs:
        if item.is_dir():
            sources += list_images(item, args.pattern)
        elif item.is_file():
            if item.suffix.lower() not in IMAGE_SUFFIXES:
                raise UserError(f"{item}: not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
            sources.append(item)
        else:
            raise UserError(f"{item}: no such file or folder")
    if not sources:
        raise UserError(f"{', '.join(map(str, args.inputs))}: no images matching '{args.pattern}'")
    plan_outputs(sources, args.output, args.probabilities)  # refuse clashes before any work is done
    predictor = Predictor.from_checkpoint(args.model, device=args.device)
    written, failures = predictor.predict_files(sources, args.output, save_probabilities=args.probabilities)
    print(f"wrote {len(written)} result(s) to {args.output}")
    for reason in failures.values():
        print(f"failed: {reason}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} of {len(sources)} file(s) failed; the others were written", file=sys.stderr)
        return 1
    return 0


def run_evaluate(args) -> int:
    from img2img.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(args.model, device=args.device)
    if predictor.task == "translation":
        from img2img.evaluation.translation import evaluate_translation as evaluate
        from img2img.evaluation.translation_report import print_table, write_report
    else:
        from img2img.evaluation.evaluate import evaluate_segmentation as evaluate
        from img2img.evaluation.report import print_table, write_report
    evaluation = evaluate(predictor, args.input, args.target, baseline=args.baseline, pattern=args.pattern)
    print_table(evaluation)
    run_folder = args.model.resolve().parent
    if run_folder.name == "checkpoints":  # runs/NAME/checkpoints/best.ckpt -> runs/NAME/evaluation
        run_folder = run_folder.parent
    folder = args.output or run_folder / "evaluation"
    report = write_report(evaluation, folder, title=f"Evaluation of {args.model.name}",
                          notes=[f"Model: `{args.model}`", f"Images: `{args.input}`, targets: `{args.target}`"])
    print(f"report: {report}")
    return 0


def run_demo(args) -> int:
    from img2img.demo import run_demo as demo

    demo(args.output, steps=args.steps, n_train=args.n_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
