"""The `img2img` command. Thin: each subcommand parses arguments and calls the library.

A `UserError` anywhere becomes one line on stderr and exit code 2; a file that fails during
a batch run makes the exit code 1 after the rest were processed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from functools import partial
from pathlib import Path

from img2img import __version__
from img2img.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _warnings_as_one_line():
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


@contextlib.contextmanager
def _warnings_as_one_line():
    """A warning reads `warning: MESSAGE` on stderr, not Python's file, line and source line:
    users act on the message, the location helps nobody at a terminal. (`formatwarning`, not
    `showwarning`, so that code recording warnings, such as tests, still gets them.)"""
    original = warnings.formatwarning
    warnings.formatwarning = lambda message, category, filename, lineno, line=None: f"warning: {message}\n"
    try:
        yield
    finally:
        warnings.formatwarning = original


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="img2img", description="Image-to-image translation for scientific imaging.")
    parser.add_argument("--version", action="version", version=f"img2img {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write a synthetic paired data set (images/ and masks/ or targets/)")
    p.add_argument("kind", choices=["cells", "fins", "denoise", "filaments", "larvae", "photos", "zebrafish", "nuclei3d"],
                   help="cells: 16-bit nuclei microscopy; fins: RGB sea photos with dolphins; "
                        "nuclei3d: Z stacks (24 planes, 1 µm steps, 0.5 µm pixels) of touching nuclei and their 3D "
                        "labels, ImageJ hyperstacks with calibration; "
                        "denoise: low-light noisy nuclei (images/) and the clean scene (targets/), 16-bit; "
                        "filaments: noisy cytoskeleton fibres (images/) and the clean scene (targets/), 16-bit; "
                        "larvae: clean simulated arenas (sim/) and camera-like other scenes (real/), 8-bit, "
                        "positions in .json, 256 px unless --size; "
                        "photos: RGB photos (photo/) and paintings of other scenes (painting/), 256 px unless --size; "
                        "zebrafish: --n videos of larvae swimming in a dish (video_NNN/frame_NNNN.tif and positions.csv "
                        "with every larva's head and heading), set up by --rig")
    p.add_argument("--output", required=True, type=Path, help="folder to create")
    p.add_argument("--n", type=int, default=200, help="number of images (default 200)")
    p.add_argument("--size", type=int, default=None, help="square size in pixels (default: random 256-1024 per side)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=100, help="zebrafish: frames per video (default 100)")
    p.add_argument("--rig", type=Path, help="zebrafish: YAML of the dish, larvae, swimming and camera settings "
                                            "(default: matched to the real recording, experiments/larvae_real/rig.yaml)")
    p.set_defaults(run=run_synth)

    p = sub.add_parser("augment", help="translate simulated videos to look real, positions carried over, "
                                       "as a tracker training set (CSV and DeepLabCut)")
    p.add_argument("source", type=Path, help="folder that 'img2img synth zebrafish' wrote (video_NNN/ with positions.csv), "
                                             "or one video folder")
    p.add_argument("--model", required=True, type=Path, help="CycleGAN checkpoint trained simulated (A) -> real (B)")
    p.add_argument("--output", required=True, type=Path, help="folder to write (outside SOURCE)")
    p.add_argument("--scorer", default="img2img", help="DeepLabCut scorer name (default img2img)")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], help="CycleGAN direction (default AtoB)")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=run_augment)

    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("config", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set schedule.steps=500 (repeatable)")
    p.add_argument("--resume", type=Path, help="continue from a checkpoint (e.g. OUTPUT/checkpoints/last.ckpt)")
    p.add_argument("--init", metavar="CKPT",
                   help="fine-tune: start from this model's weights (a .ckpt or builtin:nuclei) with a fresh optimizer "
                        "and schedule; its model, task, input_channels, normalization and segmentation replace the "
                        "config's (same as the config key init_from)")
    p.set_defaults(run=run_train)

    p = sub.add_parser("infer", help="run a trained model on images or folders (tiled, any size)")
    p.add_argument("inputs", nargs="+", type=Path,
                   help="image files (TIFF, OME-TIFF, PNG, JPG; CZI, ND2, LIF with the [formats] extra), OME-Zarr images "
                        "(NAME.ome.zarr folders) and/or folders of them")
    p.add_argument("--model", required=True, type=Path,
                   help="checkpoint (.ckpt) from 'img2img train', builtin:nuclei for the packaged nuclei segmenter, "
                        "or a BioImage.IO package (.zip or folder): one from 'img2img export' runs exactly as its "
                        "checkpoint, one from elsewhere with its own pre- and post-processing")
    p.add_argument("--output", required=True, type=Path, help="folder for the results")
    p.add_argument("--pattern", default="*", help="glob for files inside input folders (default: all images)")
    p.add_argument("--recursive", action="store_true", help="also search subfolders (mirrored in --output)")
    p.add_argument("--name", default="{stem}.tif", metavar="TEMPLATE",
                   help="result file name from {stem}, {name}, {suffix} (default: {stem}.tif, an ImageJ hyperstack; "
                        "{stem}.ome.tif for OME-TIFF inputs); end it in .ome.tif for OME-TIFF or .ome.zarr for an "
                        "OME-Zarr (NGFF 0.4, with a pyramid) written tile row by tile row, e.g. '{stem}.ome.zarr'")
    p.add_argument("--series", metavar="N|NAME",
                   help="files holding several images (multi-series OME-TIFF, CZI, ND2, LIF, bioformats2raw OME-Zarr): "
                        "which one, by number (from 0) or name; without it such a file is an error listing them")
    p.add_argument("--probabilities", action="store_true", help="segmentation: also write NAME_probabilities.tif (float32)")
    p.add_argument("--output-dtype", default="same", choices=["same", "uint8", "uint16", "float32"],
                   help="pixel type of image results (default: the input's); out-of-range values are clipped")
    p.add_argument("--tile", type=int, help="tile side in pixels (default: 8x the network size multiple, 512-2048; 1024+ on GPU)")
    p.add_argument("--overlap", type=int, help="tile overlap in pixels (default: from the model's receptive field)")
    p.add_argument("--batch-size", type=int, help="tiles per batch on the device (default: 1 on CPU, 8 on GPU)")
    p.add_argument("--channels", help="input channels to feed the model, e.g. 0 or 0,2 or 0,0,0")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], help="CycleGAN: which way to translate (default AtoB)")
    p.add_argument("--mask", type=Path, metavar="FOLDER",
                   help="inpainting: folder of masks with the inputs' file names (any suffix), nonzero = fill")
    p.add_argument("--mask-rule", metavar="RULES",
                   help="inpainting: fill pixels found by rules, comma-separated: saturated, zero, dead-lines "
                        "(joined with --mask where both are given)")
    p.add_argument("--diameter", default=None, metavar="PX",
                   help="segmenters trained at an object size (builtin:nuclei): the objects' diameter in pixels, "
                        "or auto (default) to measure it in each image; images are rescaled to the trained size")
    p.add_argument("--tta", action="store_true",
                   help="segmentation: average the 8 flips and quarter turns of each image (8x slower, smoother outlines)")
    p.add_argument("--stitch", default="auto", metavar="auto|off|IOU",
                   help="segmentation of stacks: auto (default) makes 3D objects of Z stacks, joining objects of "
                        "neighbouring planes that overlap by IoU >= 0.25, and leaves time series frame by frame; "
                        "off keeps planes apart (ids still unique through a Z stack); a number sets the IoU "
                        "(and stitches a time series without Z over time)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (auto spreads files over all GPUs)")
    p.add_argument("--precision", default="auto", choices=["auto", "32", "bf16"],
                   help="auto: bf16 where the hardware has it and the task's check passes (labels agree on 99.5%% "
                        "of the pixels, or PSNR drops by at most 0.1 dB); ResNets that fail it may keep bf16 in "
                        "their residual blocks")
    p.add_argument("--compile", nargs="?", const="on", default="auto", choices=["auto", "on", "off"],
                   help="torch.compile the network (bare --compile: on). auto: for networks measured to gain "
                        "(ResNets) on images large enough to repay the compile (seconds to a minute on a CPU)")
    p.add_argument("--workers", type=int, help="processes, one per device (default: one per visible GPU, else 1)")
    p.add_argument("--shard", default="auto", metavar="K/N",
                   help="process every N-th file from the K-th (default: from SLURM_ARRAY_TASK_ID or torchrun's RANK)")
    p.add_argument("--skip-existing", action="store_true", help="skip inputs whose results exist (resume a run)")
    p.add_argument("--dry-run", action="store_true", help="list what would be done and stop")
    p.set_defaults(run=run_infer)

    p = sub.add_parser("evaluate", help="score a model and a classical baseline against ground truth")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--input", required=True, type=Path, help="folder of images")
    p.add_argument("--target", type=Path,
                   help="folder of true instance masks, or target images (same names); superres/inpaint/colorize: "
                        "optional, without it --input holds clean images and the inputs are made from them")
    p.add_argument("--output", type=Path, help="folder for metrics.json, report.md, figure.png (default: next to the checkpoint)")
    p.add_argument("--baseline", help="segmentation: otsu_watershed or color_kmeans (default: by channel count); "
                                      "translation: gaussian or nl_means (default: both)")
    p.add_argument("--pattern", default="*")
    p.add_argument("--device", default="auto")
    p.add_argument("--channels", help="input channels to feed the model, e.g. 0 or 0,2 or 0,0,0 (as for infer)")
    p.add_argument("--diameter", metavar="PX",
                   help="segmenters trained at an object size: the objects' diameter in pixels, or auto (as for infer)")
    p.add_argument("--tta", action="store_true", help="segmentation: average the 8 flips and quarter turns (as for infer)")
    p.add_argument("--stitch", default="auto", metavar="auto|off|IOU",
                   help="segmentation of Z stacks: how planes become 3D objects (as for infer); stacks are scored "
                        "as 3D label volumes with 3D IoU matching")
    p.add_argument("--groups", type=Path, metavar="CSV",
                   help="segmentation: CSV with image names (column id or name, file names without suffix) and groups "
                        "(column modality or group) for per-group scores; unlisted images are in group 'other'")
    p.add_argument("--objects", choices=["bright", "dark", "auto"],
                   help="segmentation baseline otsu_watershed: bright objects on dark (fluorescence), dark on light "
                        "(histology, brightfield), or auto, decided per image from its background (default)")
    p.set_defaults(run=run_evaluate)

    p = sub.add_parser("export", help="export a checkpoint as a BioImage.IO package, ONNX or TorchScript")
    p.add_argument("model", metavar="CKPT", help="checkpoint (.ckpt) from 'img2img train', or builtin:nuclei")
    p.add_argument("--output", required=True, type=Path,
                   help="bioimageio: NAME.zip (zipped package) or a folder; onnx/torchscript: NAME.onnx / NAME.pt, "
                        "or a folder to put it in")
    p.add_argument("--format", default="bioimageio", choices=["bioimageio", "onnx", "torchscript"],
                   help="bioimageio (default): a BioImage.IO model package with all three weight formats")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], help="CycleGAN: which generator to export (default AtoB)")
    p.add_argument("--sample", type=Path, metavar="IMAGE",
                   help="an image from the model's domain for the test tensors and cover (default: a synthetic one)")
    p.add_argument("--name", help="model name in the package (default: the run folder or checkpoint name)")
    p.add_argument("--author", action="append", dest="authors", metavar="NAME", help="package author (repeatable)")
    p.add_argument("--license", default="CC-BY-4.0", help="SPDX license of the weights (default CC-BY-4.0)")
    p.set_defaults(run=run_export)

    p = sub.add_parser("info", help="show the model card of a checkpoint, package or exported file")
    p.add_argument("model", metavar="MODEL", type=Path,
                   help="checkpoint (.ckpt), builtin:nuclei, a BioImage.IO package, or an .onnx/.pt file from img2img export")
    p.add_argument("--json", action="store_true", help="print the card as JSON")
    p.set_defaults(run=run_info)

    p = sub.add_parser("demo", help="synthesize data, train Pix2Pix briefly, segment held-out images, write a report")
    p.add_argument("--output", type=Path, default=Path("demo_output"))
    p.add_argument("--steps", type=int, default=None, help="training steps (default: a few minutes on a CPU)")
    p.add_argument("--n-train", type=int, default=None)
    p.set_defaults(run=run_demo)
    return parser


def run_synth(args) -> int:
    from img2img.data.synthetic import summary, write_synthetic_dataset

    if args.kind == "zebrafish":
        return _synth_zebrafish(args)
    paths = write_synthetic_dataset(args.kind, args.output, n=args.n, seed=args.seed, size=args.size)
    print(summary(args.kind, args.output, len(paths)))
    return 0


def _synth_zebrafish(args) -> int:
    from img2img.data.synthetic.zebrafish import load_rig, write_videos

    if args.n < 1 or args.frames < 1:
        raise UserError(f"--n {args.n} --frames {args.frames}: give at least one video of at least one frame")
    rig = load_rig(args.rig)
    if args.size is not None:
        rig = rig.scaled(args.size / rig.frame_size)
    folders = write_videos(args.output, rig, args.n, args.frames, seed=args.seed)
    print(f"wrote {len(folders)} video(s) of {args.frames} frames ({rig.frame_size} px, {rig.larvae} larvae each) "
          f"to {args.output}, positions in each video's positions.csv, settings in {args.output / 'rig.yaml'}")
    return 0


def run_augment(args) -> int:
    from img2img.tracking import augment_videos

    report = augment_videos(args.source, args.model, args.output, scorer=args.scorer, device=args.device,
                            direction=args.direction)
    for name, video in report["videos"].items():
        print(f"{name}: {video['frames']} frames, {video['animals']} animals, flicker {video['flicker_source']:.2f} -> "
              f"{video['flicker_translated']:.2f} grey levels")
    print(f"wrote {len(report['videos'])} translated video(s) with positions.csv, and DeepLabCut labels in "
          f"{args.output / 'deeplabcut'}")
    return 0


def run_train(args) -> int:
    from img2img.config import load_config
    from img2img.training import train
    from img2img.training.interruption import TrainingInterrupted, resume_command

    if args.init is not None and args.resume is not None:
        raise UserError("--init starts a new run from a model's weights and --resume continues a run; give one of them")
    config = load_config(args.config, args.overrides)
    if args.init is not None:
        config = config.model_copy(update={"init_from": args.init})
    try:
        train(config, resume=args.resume)  # prints the summary: steps, time, images/s, best and last checkpoints
    except TrainingInterrupted as stop:  # SIGINT/SIGTERM: last.ckpt is saved; one line, exit 130/143
        if stop.report:
            print(f"{stop}; resume with: {resume_command(args.config, args.overrides, stop.last)}", file=sys.stderr)
        return stop.exit_code
    return 0


def run_infer(args) -> int:
    from img2img.inference.outputs import check_template, find_inputs, parse_shard, plan_outputs, take_shard
    from img2img.inference.workers import PredictorOptions, infer_files

    check_template(args.name)  # a bad --name is one line before the (maybe long) search for inputs
    found = find_inputs(args.inputs, args.pattern, args.recursive)
    jobs = plan_outputs(found, args.output, args.probabilities, args.name, series=args.series)  # refuse clashes before any work
    index, count = parse_shard(args.shard)
    jobs = take_shard(jobs, index, count)
    shard = f" (shard {index}/{count})" if count > 1 else ""
    if args.dry_run:
        for job in jobs:
            state = "exists, skip" if args.skip_existing and job.done() else "write"
            print(f"{job.source} -> {', '.join(map(str, job.outputs()))} [{state}]")
        print(f"dry run: {len(jobs)} file(s){shard}; nothing written")
        return 0
    options = PredictorOptions(
        device=args.device, tile=args.tile, overlap=args.overlap, batch_size=args.batch_size,
        precision=args.precision, channels=_parse_channels(args.channels), output_dtype=args.output_dtype,
        direction=args.direction, mask_dir=args.mask, mask_rule=args.mask_rule, compile=args.compile,
        diameter=args.diameter, tta=args.tta, stitch=args.stitch,
    )
    report = infer_files(args.model, options, jobs, workers=args.workers, skip_existing=args.skip_existing)
    rate = f", {report.megapixels / report.seconds:.2f} MP/s" if report.seconds > 0 and report.megapixels else ""
    skipped = f", skipped {len(report.skipped)} finished" if report.skipped else ""
    print(f"wrote {len(report.written)} result(s) to {args.output}{shard}{skipped} in {report.seconds:.1f} s{rate}")
    for reason in report.failures.values():
        print(f"failed: {reason}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} of {len(jobs)} file(s) failed; the others were written", file=sys.stderr)
        return 1
    return 0


def _parse_channels(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(c) for c in text.split(",")]
    except ValueError:
        raise UserError(f"--channels {text}: give channel numbers separated by commas, e.g. 0,2") from None


def run_evaluate(args) -> int:
    from img2img.inference.predictor import Predictor
    from img2img.kinds import kind_of, load

    # --diameter goes to the Predictor only where given, so its own default applies otherwise.
    diameter = {} if args.diameter is None else {"diameter": args.diameter}
    predictor = Predictor.from_checkpoint(args.model, device=args.device, channels=_parse_channels(args.channels),
                                          tta=args.tta, stitch=args.stitch, **diameter)
    kind = kind_of(predictor.config)
    own = kind.evaluator is not None  # the kind's own evaluator and baselines (superres, inpaint, colorize)
    segmentation = not own and predictor.task != "translation"
    if not segmentation and (args.groups or args.objects):
        raise UserError("--groups and --objects are for segmentation models; this model makes images")
    if args.target is None and not kind.target_optional:
        raise UserError("--target: give the folder of true masks or target images (same names as --input)")
    if own:
        from img2img.evaluation.translation_report import print_table, write_report

        evaluation = load(kind.evaluator)(predictor, args.input, args.target, pattern=args.pattern)
    else:
        if predictor.task == "translation":
            from img2img.evaluation.translation import evaluate_translation as evaluate
            from img2img.evaluation.translation_report import print_table, write_report
        else:
            from img2img.evaluation.evaluate import evaluate_segmentation
            from img2img.evaluation.groups import read_groups
            from img2img.evaluation.report import print_table, write_report

            groups = read_groups(args.groups) if args.groups else None
            evaluate = partial(evaluate_segmentation, objects=args.objects or "auto", groups=groups)
        evaluation = evaluate(predictor, args.input, args.target, baseline=args.baseline, pattern=args.pattern)
    print_table(evaluation)
    run_folder = args.model.resolve().parent
    if run_folder.name == "checkpoints":  # runs/NAME/checkpoints/best.ckpt -> runs/NAME/evaluation
        run_folder = run_folder.parent
    folder = args.output or run_folder / "evaluation"
    report = write_report(evaluation, folder, title=f"Evaluation of {args.model.name}",
                          notes=[f"Model: `{args.model}`", f"Images: `{args.input}`" + (f", targets: `{args.target}`" if args.target else "")])
    print(f"report: {report}")
    return 0


def run_export(args) -> int:
    from img2img.export import export_model

    report = export_model(args.model, args.output, args.format, direction=args.direction, sample=args.sample,
                          name=args.name, authors=args.authors, license=args.license)
    print(report.summary())
    return 0


def run_info(args) -> int:
    import json

    from img2img.export.embedded_card import read_embedded
    from img2img.models.card import card_text, model_card
    from img2img.models.checkpoint import read_checkpoint
    from img2img.models.packages import is_foreign_package

    if args.model.suffix.lower() in (".onnx", ".pt", ".pth", ".torchscript"):  # single-file exports carry their card
        card = read_embedded(args.model) if args.model.is_file() else None
        if card is not None:
            print(json.dumps(card, indent=2) if args.json else card_text(card))
            return 0
    if is_foreign_package(args.model):
        from img2img.inference.bmz_predictor import BmzPredictor, package_summary

        card = package_summary(BmzPredictor(args.model, device="cpu"))
        print(json.dumps(card, indent=2) if args.json else card_text(card, training=False))
        return 0
    card = model_card(read_checkpoint(args.model))
    print(json.dumps(card, indent=2) if args.json else card_text(card))
    return 0


def run_demo(args) -> int:
    from img2img.demo import run_demo as demo

    demo(args.output, steps=args.steps, n_train=args.n_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
