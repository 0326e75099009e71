"""`export_model`: a checkpoint as a BioImage.IO package, an ONNX file or a TorchScript file.

Each export is checked before it is put in place: the exported network must reproduce our
Predictor's output on the example (`reference.py`) within `TOLERANCE`, or nothing is written. Files
are made under a temporary name beside the destination and renamed when complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.builtin import resolve_model_path
from img2img.errors import UserError
from img2img.export.checked import NOT_TRACEABLE, TOLERANCE, ExportReport, write_checked
from img2img.export.network import exported_network
from img2img.export.processing import input_scaling
from img2img.export.reference import Example, make_example
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_path
from img2img.models.checkpoint import load_model, read_checkpoint

FORMATS = ("bioimageio", "onnx", "torchscript")
SUFFIXES = {"onnx": (".onnx",), "torchscript": (".pt", ".pth", ".torchscript")}


def export_model(checkpoint: str | Path, output: str | Path, format: str = "bioimageio", *, direction: str | None = None,
                 sample: str | Path | None = None, name: str | None = None, authors: list[str] | None = None,
                 license: str = "CC-BY-4.0") -> ExportReport:
    """Export `checkpoint` (a .ckpt or builtin:NAME) to `output`.

    bioimageio: `output` ending in .zip is a zipped package; a new or empty folder (or an earlier
    package folder) becomes the package folder; another existing folder gets NAME.zip inside.
    onnx / torchscript: `output` ending in .onnx / .pt is the file, anything else a folder that gets
    `NAME.onnx` / `NAME.pt`. `direction`: CycleGAN, which generator (AtoB, the default, or BtoA).
    `sample`: an image from the model's domain for the test tensors and cover (else a synthetic one).
    """
    if format not in FORMATS:
        raise UserError(f"--format {format}: choose one of {', '.join(FORMATS)}")
    model = load_model(checkpoint)
    model_name = model.config.model.name
    if direction is not None and not hasattr(model, "direction"):
        raise UserError(f"--direction {direction}: only CycleGAN models run in two directions")
    direction = direction or "AtoB"
    if format != "bioimageio" and model_name in NOT_TRACEABLE:
        raise UserError(f"--format {format}: {NOT_TRACEABLE[model_name]}")
    predictor = Predictor(model, device="cpu", precision="32", **({"direction": direction} if hasattr(model, "direction") else {}))
    example = make_example(predictor, Path(sample) if sample else None)
    network = exported_network(model, direction)
    inputs = network_inputs(example, predictor)
    stem = name or _stem(checkpoint)
    if format == "bioimageio":
        from img2img.export.package import write_package

        return write_package(_package_destination(Path(output), stem), checkpoint=read_checkpoint(checkpoint),
                             predictor=predictor, network=network, example=example, inputs=inputs, name=stem,
                             direction=direction, authors=authors or ["img2img user"], license=license)
    from img2img.export.embedded_card import export_card
    from img2img.models.card import model_card

    destination = _file_destination(Path(output), format, stem)
    card = export_card(model_card(read_checkpoint(checkpoint)), format=format, predictor=predictor, direction=direction,
                       tolerance=TOLERANCE)
    with atomic_path(destination) as tmp:
        difference = write_checked(format, network, inputs, example.output, tmp, card=card)
    return ExportReport(destination, format, {format: difference})


def network_inputs(example: Example, predictor: Predictor) -> tuple[np.ndarray, ...]:
    """The example as the exported network reads it: (1, C, H, W) float32 on [-1, 1] after the
    spec-side pre-processing (and the (1, 1, H, W) hole mask for inpainting)."""
    scaling = input_scaling(predictor.config.normalization, predictor.trained_dtypes[0])
    image = scaling.apply(example.image)[None]
    if example.holes is None:
        return (image,)
    return image, example.holes[None, None].astype(np.float32)


def _stem(checkpoint: str | Path) -> str:
    """A name for the export: builtin:NAME -> NAME; runs/NAME/checkpoints/best.ckpt -> NAME."""
    text = str(checkpoint)
    if text.startswith("builtin:"):
        return text.split(":", 1)[1]
    path = resolve_model_path(checkpoint)
    return path.parent.parent.name if path.parent.name == "checkpoints" else path.stem


def _package_destination(output: Path, stem: str) -> Path:
    """NAME.zip, a new or empty folder, or a package folder to replace, are the package itself; any
    other existing folder gets `STEM.zip` inside, so that exporting never replaces a folder of other files."""
    if output.suffix.lower() == ".zip" or not output.is_dir():
        return output
    if not any(output.iterdir()) or any((output / n).is_file() for n in ("rdf.yaml", "bioimageio.yaml")):
        return output
    return output / f"{stem}.zip"


def _file_destination(output: Path, format: str, stem: str) -> Path:
    if output.suffix.lower() in SUFFIXES[format]:
        return output
    if output.suffix and not output.is_dir():
        raise UserError(f"--output {output}: a {format} export is a {' or '.join(SUFFIXES[format])} file, or a folder to put it in")
    return output / f"{stem}{SUFFIXES[format][0]}"
