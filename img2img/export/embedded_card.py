"""The model card inside single-file exports, so an ONNX or TorchScript file says what it is.

ONNX keeps it as a `metadata_props` entry, TorchScript as an extra file of its zip archive; both
are JSON: the checkpoint's card (`models/card.py`) plus what the file expects around the network
(input scaling, output meaning, size multiple, CycleGAN direction). `img2img info FILE` reads it
back without running any of the file's code (the TorchScript archive is read as a zip).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from img2img.errors import UserError

KEY = "img2img_model_card"  # ONNX metadata key; TorchScript extra file f"{KEY}.json"


def export_card(card: dict, *, format: str, predictor, direction: str, tolerance: float) -> dict:
    from img2img.export.processing import input_scaling, output_scaling

    scaling = input_scaling(predictor.config.normalization, predictor.trained_dtypes[0])
    meaning = output_scaling(predictor.task, predictor.config.target_norm,
                             predictor.trained_dtypes[1] or predictor.trained_dtypes[0]).meaning
    how = (f"per image and channel: {scaling.low}-{scaling.high} percentiles -> [-1, 1]" if scaling.mode == "percentile"
           else f"x * {scaling.gain:.6g} + {scaling.offset:.6g}")
    export = {"format": format, "input": f"(B, {predictor.in_channels}, H, W) float32 on [-1, 1]: raw intensities {how}; "
                                          f"H and W multiples of {predictor.multiple}",
              "output": f"(B, {predictor.out_channels}, H*{predictor.scale}, W*{predictor.scale}) on [-1, 1]; "
                        f"a BioImage.IO export maps it to: {meaning}",
              "checked": f"output within {tolerance:g} of img2img's Predictor on an example before writing"}
    if predictor.config.model.name == "cyclegan":
        export["direction"] = direction
    return {**card, "export": export}


def embed(path: Path, format: str, card: dict) -> None:
    """Add `card` to the written file at `path` (TorchScript cards are written by `torch.jit.save`)."""
    if format == "onnx":
        import onnx

        model = onnx.load(str(path))
        entry = model.metadata_props.add()
        entry.key, entry.value = KEY, json.dumps(card)
        onnx.save(model, str(path))


def torchscript_extra_files(card: dict) -> dict[str, str]:
    return {f"{KEY}.json": json.dumps(card)}


def read_embedded(path: Path) -> dict | None:
    """The card of an exported .onnx or TorchScript file, or None when `path` is neither."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        try:
            import onnx

            model = onnx.load(str(path), load_external_data=False)
        except ImportError:
            raise UserError("reading an ONNX file needs the onnx package (the export extra)") from None
        except Exception as exc:
            raise UserError(f"{path}: not a readable ONNX file ({str(exc).splitlines()[0][:150] if str(exc) else type(exc).__name__})") from None
        props = {p.key: p.value for p in model.metadata_props}
        if KEY not in props:
            raise UserError(f"{path}: an ONNX file without an img2img model card (not written by img2img export)")
        return json.loads(props[KEY])
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(f"/extra/{KEY}.json")]
            if names:
                return json.loads(z.read(names[0]))
    return None
