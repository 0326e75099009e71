"""TorchScript export: the network traced on the example.

Tracing (not scripting) because our generators are plain convolution stacks whose only Python
control flow is a size check; the traced graph keeps sizes symbolic, so other sizes that are whole
multiples of the size multiple run too (the round-trip tests run a second size).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from img2img.export.network import ExportedNetwork


def write_torchscript(network: ExportedNetwork, example: tuple[torch.Tensor, ...], path: Path,
                      extra_files: dict[str, str] | None = None) -> None:
    """`extra_files`: name -> text stored in the archive (the model card)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings about the size check, which holds for the sizes allowed
        traced = torch.jit.trace(network, example, check_trace=False)
    traced.save(str(path), _extra_files=extra_files or {})


def run_torchscript(path: Path, inputs: tuple[np.ndarray, ...]) -> np.ndarray:
    module = torch.jit.load(str(path), map_location="cpu").eval()
    with torch.no_grad():
        return module(*(torch.from_numpy(x) for x in inputs)).numpy()
