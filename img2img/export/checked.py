"""An export is put in place only if the written file reproduces our Predictor: `write_checked`
writes a network in one weights format, runs what it wrote and compares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from img2img.errors import UserError

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
