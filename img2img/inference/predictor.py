"""`Predictor`: a trained model as a plain function on numpy arrays and files.

The CLI, the napari plugin and pipeline code all go through this class, so normalization,
padding and decoding happen the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from rich.progress import track

from img2img.errors import UserError
from img2img.inference.padding import crop_to, pad_to_multiple
from img2img.io.axes import canonical_axes, from_planes, guess_axes, to_planes
from img2img.io.images import read_image, write_image
from img2img.models.checkpoint import load_model
from img2img.models.gan_base import GanModule
from img2img.segmentation.encoding import target_to_labels


class Predictor:
    def __init__(self, model: GanModule, device: str = "auto"):
        self.device = torch.device(resolve_device(device))
        self.model = model.eval().to(self.device)
        self.config = model.config
        self.in_channels = model.in_channels

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto") -> "Predictor":
        return cls(load_model(path), device=device)

    @property
    def task(self) -> str:
        return self.config.task

    # --- arrays --------------------------------------------------------------------------
    def predict(self, image: np.ndarray, axes: str | None = None) -> np.ndarray:
        """Instance labels (uint16) with the input's plane axes kept, e.g. YX -> YX, ZYX -> ZYX."""
        axes = axes or guess_axes(np.shape(image), self.in_channels)
        return decode_labels(self.predict_probabilities(image, axes), plane_axes_of(axes))

    def predict_probabilities(self, image: np.ndarray, axes: str | None = None) -> np.ndarray:
        """The network's raw output mapped to [0, 1], (planes..., C, Y, X): for segmentation,
        channel 0 is foreground probability and channel 1 the object-centre map."""
        probabilities, plane_shape, plane_axes = self._run(image, axes)
        return from_planes(probabilities, plane_shape, plane_axes + "CYX")

    def _run(self, image: np.ndarray, axes: str | None) -> tuple[np.ndarray, tuple[int, ...], str]:
        axes = axes or guess_axes(image.shape, self.in_channels)
        planes, plane_axes = to_planes(np.asarray(image), axes)
        if planes.shape[1] != self.in_channels:
            raise UserError(
                f"image has {planes.shape[1]} channel(s) (axes '{axes}') but the model takes {self.in_channels}"
            )
        plane_shape = tuple(np.asarray(image).shape[axes.index(a)] for a in plane_axes)
        outputs = [self._run_plane(p) for p in planes]
        return np.stack(outputs), plane_shape, plane_axes

    @torch.inference_mode()
    def _run_plane(self, plane: np.ndarray) -> np.ndarray:
        """(C, H, W) raw pixels -> (C_out, H, W) float32 in [0, 1]."""
        x = self.config.normalization.normalize(plane)
        x, size = pad_to_multiple(x, self.model.size_multiple)
        tensor = torch.from_numpy(np.ascontiguousarray(x))[None].to(self.device)
        y = self.model(tensor)[0].float().cpu().numpy()
        return (crop_to(y, size) + 1.0) / 2.0

    # --- files ---------------------------------------------------------------------------
    def predict_file(self, source: Path, destination: Path, probabilities: Path | None = None) -> Path:
        """Labels to `destination` (and the probability maps, if asked) as TIFFs with the input's axes."""
        image = read_image(source)
        plane_axes = plane_axes_of(image.axes)
        probs = self.predict_probabilities(image.data, image.axes)
        if probabilities is not None:
            write_image(probabilities, probs.astype(np.float32), axes=plane_axes + "CYX")
        return write_image(destination, decode_labels(probs, plane_axes), axes=plane_axes + "YX")

    def predict_files(
        self, sources: Iterable[Path], output_dir: Path, save_probabilities: bool = False, progress: bool = True
    ) -> tuple[list[Path], dict[Path, str]]:
        """Run on every file; a failing file is reported and skipped. Returns (written, failures)."""
        sources = list(sources)
        output_dir = Path(output_dir)
        written, failures = [], {}
        for source in track(sources, description="predicting", disable=not progress):
            destination = output_path(source, output_dir)
            try:
                prob_path = destination.with_name(destination.stem + "_probabilities.tif") if save_probabilities else None
                written.append(self.predict_file(source, destination, prob_path))
            except UserError as exc:
                failures[source] = str(exc)
        return written, failures


def output_path(source: Path, output_dir: Path) -> Path:
    """Same name as the input, as a TIFF (labels need 16 bits); never the input itself."""
    destination = Path(output_dir) / (source.stem + ".tif")
    if destination.resolve() == Path(source).resolve():
        raise UserError(f"{source}: the output would overwrite this input; choose another --output folder")
    return destination


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: no CUDA GPU is visible; use --device cpu")
    return device


def plane_axes_of(axes: str) -> str:
    """The axes that index planes (Z, T, ...): everything but channels and the image plane."""
    return "".join(a for a in canonical_axes(axes) if a not in "CYX")


def decode_labels(probabilities: np.ndarray, plane_axes: str) -> np.ndarray:
    """(planes..., C, Y, X) network output in [0, 1] -> (planes..., Y, X) instance labels."""
    lead = probabilities.shape[: len(plane_axes)]
    flat = probabilities.reshape((-1,) + probabilities.shape[len(plane_axes) :])
    labels = np.stack([target_to_labels(p) for p in flat])
    return labels.reshape(lead + labels.shape[1:])
