"""BioImage.IO model packages (spec 0.5), described with bioimageio.spec's own classes.

A package holds the network in three weight formats (`pytorch_state_dict` with its architecture
importable from this package, `torchscript`, `onnx`), test tensors made by our Predictor, the
pre-processing (percentile or linear scaling to [-1, 1]) and post-processing (`processing.py`) in
the spec's operations, a cover image, and a README model card. It also attaches the slim img2img
checkpoint it came from, so that `img2img infer --model PACKAGE.zip` runs it exactly as the
checkpoint (tiling, object size, label decoding), which the spec cannot describe.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from img2img.errors import UserError
from img2img.export.processing import InputScaling, OutputScaling

CHECKPOINT_ATTACHMENT = "img2img_model.ckpt"

CITATIONS = {
    "pix2pix": ("Isola et al. 2017, Image-to-image translation with conditional adversarial networks", "10.1109/CVPR.2017.632"),
    "cyclegan": ("Zhu et al. 2017, Unpaired image-to-image translation using cycle-consistent adversarial networks",
                 "10.1109/ICCV.2017.244"),
    "superres": ("Ledig et al. 2017, Photo-realistic single image super-resolution using a GAN", "10.1109/CVPR.2017.19"),
    "colorize": ("Isola et al. 2017, Image-to-image translation with conditional adversarial networks", "10.1109/CVPR.2017.632"),
    "inpaint": ("Yu et al. 2019, Free-form image inpainting with gated convolution", "10.1109/ICCV.2019.00457"),
}


def spec_modules():
    """bioimageio.spec's v0.5 model classes, or a one-line error naming the extra to install."""
    try:
        import bioimageio.spec.model.v0_5 as v0_5
        from bioimageio.spec import save_bioimageio_package, save_bioimageio_package_as_folder
    except ImportError:
        raise UserError("--format bioimageio needs bioimageio.spec: pip install 'img2img-microscopy[export]'") from None
    return v0_5, save_bioimageio_package, save_bioimageio_package_as_folder


def package_name(text: str) -> str:
    """A name the spec accepts (letters, digits, '_+- ()')."""
    name = re.sub(r"[^A-Za-z0-9_+\- ()]", "-", text).strip("- ")
    return (name if len(name) >= 5 else f"img2img {name}".strip())[:128]


def describe(*, name: str, model_name: str, task: str, files: dict[str, Path], channels_in: list[str],
             channels_out: list[str], scaling_in: InputScaling, scaling_out: OutputScaling, multiple: int,
             scale: int, takes_mask: bool, network_kwargs: dict, formats: list[str], description: str,
             authors: list[str], license: str, tags: list[str], opset: int):
    """The ModelDescr of a package whose files are in `files` (keys: input, mask, output, cover,
    readme, state_dict, torchscript, onnx, environment, checkpoint)."""
    v0_5, _, _ = spec_modules()
    torch_version = v0_5.Version(torch.__version__.split("+")[0])
    minimum = max(16 // multiple, 1) * multiple

    def space_in(axis: str):
        return v0_5.SpaceInputAxis(id=v0_5.AxisId(axis), size=v0_5.ParameterizedSize(min=minimum, step=multiple))

    def same_as_input(axis: str, tensor: str = "input"):
        return v0_5.SpaceInputAxis(id=v0_5.AxisId(axis), size=v0_5.SizeReference(tensor_id=v0_5.TensorId(tensor),
                                                                                 axis_id=v0_5.AxisId(axis)))

    def space_out(axis: str):
        return v0_5.SpaceOutputAxis(id=v0_5.AxisId(axis), scale=1.0 / scale,
                                    size=v0_5.SizeReference(tensor_id=v0_5.TensorId("input"), axis_id=v0_5.AxisId(axis)))

    inputs = [v0_5.InputTensorDescr(
        id=v0_5.TensorId("input"),
        description="raw image intensities (any range; scaled by the pre-processing)",
        axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=[v0_5.Identifier(c) for c in channels_in]),
              space_in("y"), space_in("x")],
        test_tensor=v0_5.FileDescr(source=files["input"]),
        data=v0_5.IntervalOrRatioDataDescr(type="float32"),
        preprocessing=_preprocessing(v0_5, scaling_in),
    )]
    if takes_mask:
        inputs.append(v0_5.InputTensorDescr(
            id=v0_5.TensorId("mask"),
            description="holes to fill: 1 = fill, 0 = keep (the same size as the input)",
            axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=[v0_5.Identifier("holes")]),
                  same_as_input("y"), same_as_input("x")],
            test_tensor=v0_5.FileDescr(source=files["mask"]),
            data=v0_5.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
        ))
    outputs = [v0_5.OutputTensorDescr(
        id=v0_5.TensorId("output"),
        description=scaling_out.meaning[:128],
        axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=[v0_5.Identifier(c) for c in channels_out]),
              space_out("y"), space_out("x")],
        test_tensor=v0_5.FileDescr(source=files["output"]),
        data=v0_5.IntervalOrRatioDataDescr(type="float32"),
        postprocessing=_postprocessing(v0_5, scaling_out),
    )]
    weights = {"pytorch_state_dict": v0_5.PytorchStateDictWeightsDescr(
        source=files["pytorch_state_dict"],
        architecture=v0_5.ArchitectureFromLibraryDescr(import_from="img2img.export.network", callable=v0_5.Identifier("ExportedNetwork"),
                                                       kwargs=json.loads(json.dumps(network_kwargs))),
        pytorch_version=torch_version,
        dependencies=v0_5.FileDescr(source=files["environment"]),
    )}
    if "torchscript" in formats:
        weights["torchscript"] = v0_5.TorchscriptWeightsDescr(source=files["torchscript"], pytorch_version=torch_version,
                                                              parent="pytorch_state_dict")
    if "onnx" in formats:
        weights["onnx"] = v0_5.OnnxWeightsDescr(source=files["onnx"], opset_version=opset, parent="pytorch_state_dict")
    cite, doi = CITATIONS[model_name]
    return v0_5.ModelDescr(
        name=name,
        description=description[:1024],
        authors=[v0_5.Author(name=a) for a in authors],
        cite=[v0_5.CiteEntry(text=cite, doi=v0_5.Doi(doi))],
        license=v0_5.LicenseId(license),
        tags=tags,
        covers=[v0_5.FileDescr(source=files["cover"])],
        documentation=v0_5.FileDescr(source=files["readme"]),
        attachments=[v0_5.FileDescr(source=files["checkpoint"])],
        inputs=inputs,
        outputs=outputs,
        weights=v0_5.WeightsDescr(**weights),
    )


def _preprocessing(v0_5, scaling: InputScaling) -> list:
    to_unit = v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=2.0, offset=-1.0))
    if scaling.mode == "percentile":
        per_channel = [v0_5.AxisId("y"), v0_5.AxisId("x")]
        return [v0_5.ScaleRangeDescr(kwargs=v0_5.ScaleRangeKwargs(axes=per_channel, min_percentile=scaling.low,
                                                                  max_percentile=scaling.high)), to_unit]
    return [v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=scaling.gain, offset=scaling.offset))]


def _postprocessing(v0_5, scaling: OutputScaling) -> list:
    steps = [v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=scaling.gain, offset=scaling.offset))]
    if scaling.clip:
        steps.append(v0_5.ClipDescr(kwargs=v0_5.ClipKwargs(min=scaling.clip[0], max=scaling.clip[1])))
    return steps


def write_environment(path: Path) -> None:
    """The conda environment the pytorch_state_dict weights need: torch and this package."""
    from img2img import __version__

    torch_version = torch.__version__.split("+")[0]
    path.write_text("name: img2img\nchannels: [conda-forge]\ndependencies:\n  - python>=3.11\n"
                    f"  - pytorch={torch_version}\n  - pip\n  - pip:\n      - img2img-microscopy>={__version__}\n")


def save_npy(path: Path, array: np.ndarray) -> Path:
    np.save(path, np.ascontiguousarray(array))
    return path
