"""`export_model`: a checkpoint as a BioImage.IO package, an ONNX file or a TorchScript file.

Each export is checked before it is put in place: the exported network must reproduce our
Predictor's output on the example (`reference.py`) within `TOLERANCE`, or nothing is written. Files
are made under a temporary name beside the destination and renamed when complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from img2img.builtin import resolve_model_path
from img2img.errors import UserError
from img2img.export.network import exported_network
from img2img.export.processing import input_scaling
from img2img.export.reference import Example, make_example
from img2img.inference.predictor import Predictor
from img2img.io.atomic import atomic_path
from img2img.models.checkpoint import load_model, read_checkpoint

FORMATS = ("bioimageio", "onnx", "torchscript")
SUFFIXES = {"onnx": (".onnx",), "torchscript": (".pt", ".pth", ".torchscript")}
TOLERANCE = 1e-4  # max |exported - Predictor| on the network's [-1, 1] scale, float32 on the CPU
# The biharmonic start of inpainting is solved by scikit-image outside torch: no graph can hold it.
NOT_TRACEABLE = {"inpaint": "inpainting starts from a biharmonic fill solved by scikit-image outside the network, "
                            "which ONNX and TorchScript cannot hold; use --format bioimageio (pytorch_state_dict weights)"}


@dataclass
class ExportReport:
    path: Path
    format: str
    differences: dict[str, float] = field(default_factory=dict)  # weights format -> max abs difference

    def summary(self) -> str:
        checks = ", ".join(f"{k} {v:.1e}" for k, v in self.differences.items())
        return f"wrote {self.path} ({self.format}); max |difference| to the Predictor: {checks} (tolerance {TOLERANCE:g})"


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


def input_names(count: int) -> list[str]:
    return ["input", "mask"][:count]


def write_checked(format: str, network, inputs: tuple[np.ndarray, ...], expected: np.ndarray, path: Path,
                  card: dict | None = None) -> float:
    """Write `network` in `format` to `path` (with `card` embedded, for single-file exports), run the
    written file on `inputs` and return its max abs difference to `expected`; a difference above
    TOLERANCE is an error (the caller's temporary file is then removed)."""
    from img2img.export.embedded_card import embed, torchscript_extra_files

    tensors = tuple(torch.from_numpy(x) for x in inputs)
    if format == "torchscript":
        from img2img.export.torchscript import run_torchscript, write_torchscript

        write_torchscript(network, tensors, path, torchscript_extra_files(card) if card else None)
        result = run_torchscript(path, inputs)
    elif format == "onnx":
        from img2img.export.onnx import run_onnx, write_onnx

        names = input_names(len(inputs))
        write_onnx(network, tensors, names, path)
        if card:
            embed(path, format, card)
        result = run_onnx(path, names, inputs)
    else:  # pytorch_state_dict: the weights, reloaded into a freshly built network
        from img2img.export.network import ExportedNetwork

        torch.save(network.state_dict(), path)
        rebuilt = ExportedNetwork(**network.kwargs)
        rebuilt.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        with torch.no_grad():
            result = rebuilt.eval()(*tensors).numpy()
    difference = float(np.abs(result[0] - expected).max())
    if not difference <= TOLERANCE:
        raise UserError(f"the {format} export differs from the Predictor by up to {difference:.2e} "
                        f"(tolerance {TOLERANCE:g}); nothing was written")
    return difference


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
