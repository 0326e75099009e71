"""Writing a BioImage.IO package: stage every file, describe it, check it, save it atomically.

The files are made in a temporary folder, the description is built from them (`bioimageio.py`),
each weight format is checked against the Predictor, bioimageio.core's model test runs on the
staged description, and only then is the package zipped (or copied as a folder) under a temporary
name beside the destination and renamed onto it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from img2img.errors import UserError, first_line
from img2img.export import bioimageio as bmz
from img2img.export.checked import NOT_TRACEABLE, TOLERANCE, ExportReport, write_checked
from img2img.export.documentation import readme, write_cover
from img2img.export.processing import input_scaling, output_scaling
from img2img.export.reference import Example
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_directory, atomic_path
from img2img.models.card import card_text, model_card
from img2img.models.checkpoint import DIRECTION_KEY


def write_package(output: Path, *, checkpoint: dict, predictor: Predictor, network, example: Example,
                  inputs: tuple[np.ndarray, ...], name: str, direction: str, authors: list[str], license: str,
                  run_test: bool = True):
    from img2img.export.onnx import OPSET

    bmz.spec_modules()  # the one-line error before any work when the extra is missing
    config = predictor.config
    model_name = config.model.name
    formats = ["pytorch_state_dict"] + ([] if model_name in NOT_TRACEABLE else ["torchscript", "onnx"])
    scaling_in = input_scaling(config.normalization, predictor.trained_dtypes[0])
    scaling_out = output_scaling(predictor.task, config.target_norm, predictor.trained_dtypes[1] or predictor.trained_dtypes[0])
    card = model_card(checkpoint)
    if model_name == "cyclegan":
        card["direction"] = direction
    with tempfile.TemporaryDirectory(prefix="img2img-export-") as staging:
        folder = Path(staging)
        files = {"pytorch_state_dict": folder / "weights.pt", "torchscript": folder / "weights_torchscript.pt",
                 "onnx": folder / "weights.onnx", "environment": folder / "environment.yaml",
                 "input": folder / "test_input.npy", "output": folder / "test_output.npy",
                 "cover": folder / "cover.png", "readme": folder / "README.md",
                 "checkpoint": folder / bmz.CHECKPOINT_ATTACHMENT}
        differences = {fmt: write_checked(fmt, network, inputs, example.output, files[fmt]) for fmt in formats}
        bmz.write_environment(files["environment"])
        bmz.save_npy(files["input"], example.image.astype(np.float32)[None])
        if example.holes is not None:
            files["mask"] = bmz.save_npy(folder / "test_mask.npy", inputs[1])
        test_output = scaling_out.apply(example.output)
        bmz.save_npy(files["output"], test_output[None])
        write_cover(files["cover"], example.image, test_output)
        _write_slim_checkpoint(checkpoint, files["checkpoint"], direction if model_name == "cyclegan" else None)
        files["readme"].write_text(readme(
            name=name, card_text=card_text(card), model_name=model_name, task=predictor.task,
            scaling_meaning=scaling_out.meaning, input_note=_input_note(predictor, scaling_in),
            differences=differences, tolerance=TOLERANCE, notes=_notes(predictor, model_name, direction)))
        descr = bmz.describe(
            name=bmz.package_name(name), model_name=model_name, task=predictor.task, files=files,
            channels_in=_channel_names(predictor.in_channels), channels_out=_output_names(predictor),
            scaling_in=scaling_in, scaling_out=scaling_out, multiple=predictor.multiple, scale=predictor.scale,
            takes_mask=example.holes is not None, network_kwargs=network.kwargs, formats=formats,
            description=f"img2img {model_name} ({predictor.task}) exported from {name}; {scaling_out.meaning}",
            authors=authors, license=license, tags=["img2img", model_name, predictor.task, "2d", "pytorch"],
            opset=OPSET)
        if run_test:
            test_package(descr)
        _save(descr, output)
    return ExportReport(output, "bioimageio", differences)


def test_package(descr) -> None:
    """bioimageio.core's model test (every weight format, the test tensors and parameterized sizes);
    a failure is a one-line error naming the first failed check."""
    try:
        from bioimageio.core import test_model
    except ImportError:
        raise UserError("checking a bioimageio package needs bioimageio.core: pip install 'img2img-microscopy[export]'") from None
    summary = test_model(descr)
    if summary.status != "passed":
        raise UserError(f"the exported package fails bioimageio.core's model test: {failed_check(summary)}; nothing was written")


def failed_check(summary) -> str:
    for detail in summary.details:
        if detail.status == "failed":
            errors = "; ".join(first_line(Exception(e.msg)) for e in detail.errors[:1])
            return f"{detail.name}: {errors}" if errors else detail.name
    return summary.status


def _save(descr, output: Path) -> None:
    _, save_zip, save_folder = bmz.spec_modules()
    if output.suffix.lower() == ".zip":
        with atomic_path(output) as tmp:
            save_zip(descr, output_path=tmp)
    else:
        with atomic_directory(output) as tmp:
            save_folder(descr, output_path=tmp)


def _write_slim_checkpoint(checkpoint: dict, path: Path, direction: str | None) -> None:
    """The checkpoint without discriminators and optimizer state: what `load_model` needs; a
    CycleGAN package also records the direction it was exported in, which it then runs by default."""
    slim = {"hyper_parameters": checkpoint["hyper_parameters"],
            "state_dict": {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("discriminator")}}
    if direction is not None:
        slim[DIRECTION_KEY] = direction
    for key in ("model_card",):
        if key in checkpoint:
            slim[key] = checkpoint[key]
    torch.save(slim, path)


def _channel_names(count: int) -> list[str]:
    return ["red", "green", "blue"] if count == 3 else [f"channel{i}" for i in range(count)]


def _output_names(predictor: Predictor) -> list[str]:
    if predictor.task == "segmentation":
        return ["foreground", "centre", "contact"][: predictor.out_channels]
    return _channel_names(predictor.out_channels)


def _input_note(predictor: Predictor, scaling) -> str:
    dtype = predictor.trained_dtypes[0]
    how = (f"each channel's {scaling.low}-{scaling.high} percentiles of the image map to [-1, 1]"
           if scaling.mode == "percentile" else f"intensity x {scaling.gain:.6g} + {scaling.offset:.6g} -> [-1, 1]")
    field = getattr(predictor.model.generator, "receptive_field", None)
    reach = f"; receptive field {field} px (overlap tiles by about that much)" if field else ""
    return (f"{predictor.in_channels} channel(s), trained on {dtype} images, given as float32; {how}; height and width "
            f"a multiple of {predictor.multiple} px{reach}")


def _notes(predictor: Predictor, model_name: str, direction: str) -> list[str]:
    config, notes = predictor.config, []
    if predictor.task == "segmentation":
        notes.append("Instance labels are NOT in this package: img2img decodes the maps with a seeded watershed "
                     f"(settings: {config.segmentation.decoding.model_dump()}), which the BioImage.IO spec cannot "
                     "express. `img2img infer --model PACKAGE.zip` runs the whole pipeline and writes labels.")
        if config.segmentation.object_diameter:
            notes.append(f"The model was trained with objects rescaled to {config.segmentation.object_diameter:g} px "
                         "across; give images at that scale (img2img infer rescales with --diameter N or auto).")
    if model_name == "cyclegan":
        notes.append(f"CycleGAN direction {direction}; export the other direction with --direction.")
    if model_name == "inpaint":
        notes.append("Inpainting: a second input `mask` marks the holes (1 = fill). Only pytorch_state_dict weights: "
                     "the network starts from a biharmonic fill solved by scikit-image, which ONNX and TorchScript "
                     "cannot hold.")
        if config.normalization.mode == "percentile":
            notes.append("img2img takes the percentiles over the known pixels only; the spec's scale_range takes them "
                         "over the whole image, holes included, so results differ where holes are very bright or dark.")
    if predictor.task != "segmentation" and config.target_norm.mode != "percentile":
        notes.append("Outputs are float32; img2img also rounds them to the target's pixel type.")
    return notes
