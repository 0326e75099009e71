"""ONNX export, run with onnxruntime for the check.

The TorchScript-based exporter (`dynamo=False`) is used: it traces like `torch.jit.trace`, so the
generators' size checks do not turn into shape guards, and it takes a second for our networks,
where the torch.export-based one needs shape constraints for every size-multiple rule. Batch, height
and width are dynamic axes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from img2img.errors import UserError
from img2img.export.network import ExportedNetwork

OPSET = 17


def write_onnx(network: ExportedNetwork, example: tuple[torch.Tensor, ...], names: list[str], path: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise UserError("--format onnx needs the onnx package: pip install 'img2img-microscopy[export]'") from None
    dynamic = {name: {0: "batch", 2: "height", 3: "width"} for name in [*names, "output"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation note and tracer warnings
        torch.onnx.export(network, example, str(path), dynamo=False, opset_version=OPSET, input_names=names,
                          output_names=["output"], dynamic_axes=dynamic)


def run_onnx(path: Path, names: list[str], inputs: tuple[np.ndarray, ...]) -> np.ndarray:
    try:
        import onnxruntime
    except ImportError:
        raise UserError("checking an ONNX export needs onnxruntime: pip install 'img2img-microscopy[export]'") from None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, inputs)))[0]
