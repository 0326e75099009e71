"""`img2img augment`: simulated videos translated to look real, with their positions carried over.

A tracker needs many annotated frames; a simulator gives them with exact positions but the wrong
look. A CycleGAN trained sim -> real (our simulations against a lab's own frames) keeps each
animal where it was drawn (measured in docs/cyclegan.md), so the simulator's positions remain the
labels of the translated frames. Every frame of a video goes through the same fixed generator;
flicker (`flicker.py`) is measured against the source video's so that a translation that crawls in
time shows in the report.

Layout read: SIM/video_NNN/*.tif (frames in name order) + SIM/video_NNN/positions.csv, as
`img2img synth zebrafish` writes (or one such video folder). Layout written:
OUT/video_NNN/frame_NNNN.tif + positions.csv (the same rows), OUT/deeplabcut/labeled-data/video_NNN/
imgNNNN.png + CollectedData_SCORER.csv, OUT/deeplabcut/project_settings.yaml, OUT/augment_report.json.
A video's positions.csv is written after its frames, so an interrupted run leaves no video that
looks complete; rerunning writes every video again.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from rich.progress import Progress

from img2img.errors import UserError
from img2img.io.atomic import atomic_path
from img2img.io.images import read_image, write_image
from img2img.tracking.flicker import FlickerMeter
from img2img.tracking.formats import dlc_project_settings, image_name, write_dlc_labels
from img2img.io.positions import read_positions, write_positions

FRAME_SUFFIXES = (".tif", ".tiff", ".png")


def find_videos(source: Path) -> list[Path]:
    """The video folders under `source` (or `source` itself), each with positions.csv."""
    source = Path(source)
    if not source.is_dir():
        raise UserError(f"{source}: no such folder; give the folder 'img2img synth zebrafish' wrote, or one video in it")
    if (source / "positions.csv").is_file():
        return [source]
    videos = sorted(p.parent for p in source.glob("*/positions.csv"))
    if not videos:
        raise UserError(f"{source}: no video folders with positions.csv found; give the folder 'img2img synth zebrafish' wrote")
    return videos


def video_frames(video: Path, rows: list[dict]) -> list[Path]:
    frames = sorted(p for p in video.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and not p.name.startswith("."))
    needed = max((r["frame"] for r in rows), default=-1) + 1
    if not frames:
        raise UserError(f"{video}: no frames (.tif, .tiff or .png) beside positions.csv")
    if len(frames) < needed:
        raise UserError(f"{video}: positions.csv names frame {needed - 1} but the folder holds {len(frames)} frame(s); "
                        "frames are counted in name order from 0")
    return frames


def augment_videos(source: Path, checkpoint: Path, output: Path, scorer: str = "img2img", device: str = "auto",
                   direction: str | None = None, progress: bool = True) -> dict:
    """Translate every video under `source` with the CycleGAN in `checkpoint` into `output`;
    returns (and writes) the report: per video its frames, animals and flicker before and after."""
    from img2img.inference.predictor import Predictor

    source, output = Path(source).resolve(), Path(output).resolve()
    videos = find_videos(source)
    if output == source or source in output.parents or output in source.parents:
        raise UserError(f"--output {output}: must be outside the simulated videos' folder and not contain it; "
                        "the inputs are never overwritten")
    plans = [(video, read_positions(video / "positions.csv")) for video in videos]
    plans = [(video, rows, video_frames(video, rows)) for video, rows in plans]
    predictor = Predictor.from_checkpoint(checkpoint, device=device, **({"direction": direction} if direction else {}))
    if predictor.task != "translation":
        raise UserError(f"{checkpoint}: a {predictor.task} model; augment needs an image-translation model "
                        "(a CycleGAN trained simulated -> real)")
    total = sum(len(frames) for _, _, frames in plans)
    report = {"model": str(checkpoint), "source": str(source), "videos": {}}
    individuals, sizes = 0, {}
    with Progress(disable=not progress) as bar:
        task = bar.add_task(f"translating {total} frames of {len(plans)} video(s)", total=total)
        for video, rows, frames in plans:
            name = video.name
            target, dlc = output / name, output / "deeplabcut" / "labeled-data" / name
            before, after = FlickerMeter(), FlickerMeter()
            animals = {}
            for r in rows:
                animals.setdefault(r["frame"], []).append((r["x"], r["y"]))
            for t, path in enumerate(frames):
                image = read_image(path).data
                translated = predictor.predict(image)
                write_image(target / f"frame_{t:04d}.tif", translated)
                write_image(dlc / image_name(t), translated)
                before.add(image, animals.get(t, []))
                after.add(translated, animals.get(t, []))
                bar.advance(task)
            write_dlc_labels(dlc, name, rows, len(frames), scorer)
            write_positions(target / "positions.csv", rows)
            individuals = max(individuals, len({r["id"] for r in rows}))
            sizes[name] = (int(translated.shape[-1]), int(translated.shape[-2]))
            report["videos"][name] = {
                "frames": len(frames), "animals": len({r["id"] for r in rows}),
                "flicker_source": round(before.value, 3), "flicker_translated": round(after.value, 3)}
    with atomic_path(output / "deeplabcut" / "project_settings.yaml") as tmp:
        tmp.write_text("# Put these into your DeepLabCut project's config.yaml, copy labeled-data/ into the project,\n"
                       "# then run deeplabcut.convertcsv2h5(config_path, userfeedback=False)\n"
                       + yaml.safe_dump(dlc_project_settings(individuals, scorer, sizes), sort_keys=False))
    with atomic_path(output / "augment_report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    return report
