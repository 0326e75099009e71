"""`Predictor`: a trained model as a plain function on numpy arrays and files.

The CLI, the napari plugin and pipeline code all go through this class, so normalization,
padding and decoding happen the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from rich.progress import track

from img2img.errors import UserError
from img2img.nets.padding import crop_to, pad_to_multiple
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
        image = np.asarray(image)
        axes = canonical_axes(axes or guess_axes(image.shape, self.in_channels))
        self._check_pixel_type(image.dtype)
        planes, plane_axes = to_planes(image, axes)
        if planes.shape[1] != self.in_channels:
            raise UserError(
                f"image has {planes.shape[1]} channel(s) (axes '{axes}') but the model takes {self.in_channels}"
            )
        plane_shape = tuple(image.shape[axes.index(a)] for a in plane_axes)
        outputs = [self._run_plane(p) for p in planes]
        return np.stack(outputs), plane_shape, plane_axes

    def _check_pixel_type(self, dtype: np.dtype) -> None:
        """With `dtype` normalization the pixel type sets the scale, so it must match training."""
        trained = self.model.hparams.get("input_dtype")
        if self.config.normalization.mode == "dtype" and trained and np.dtype(dtype) != np.dtype(trained):
            raise UserError(
                f"pixel type {dtype} differs from the {trained} images this model was trained on "
                f"(normalization mode 'dtype'); convert the images to {trained}"
            )

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
        plan = plan_outputs(sources, output_dir, save_probabilities)
        for source in track(sources, description="predicting", disable=not progress):
            destination, prob_path = plan[source]
            try:
                written.append(self.predict_file(source, destination, prob_path))
            except UserError as exc:
                failures[source] = str(exc) if str(source) in str(exc) else f"{source}: {exc}"
        return written, failures


def plan_outputs(sources: list[Path], output_dir: Path, probabilities: bool) -> dict[Path, tuple[Path, Path | None]]:
    """Output paths per input: `NAME.tif` (labels need 16 bits) and `NAME_probabilities.tif`.

    Checked before any work starts: no output may be an input, and no two inputs (a.png and
    a.tif, or the same name in two folders) may write the same file.
    """
    inputs = {Path(s).resolve() for s in sources}
    plan: dict[Path, tuple[Path, Path | None]] = {}
    claimed: dict[Path, Path] = {}
    for source in sources:
        destination = Path(output_dir) / (source.stem + ".tif")
        prob = destination.with_name(destination.stem + "_probabilities.tif") if probabilities else None
        for path in filter(None, (destination, prob)):
            resolved = path.resolve()
            if resolved in inputs:
                raise UserError(f"{path}: this input would be overwritten by a result; choose another --output folder")
            if resolved in claimed:
                raise UserError(f"{source} and {claimed[resolved]} would both write {path}; rename one or run them separately")
            claimed[resolved] = source
        plan[source] = (destination, prob)
    return plan


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise UserError(f"--device {device}: use auto, cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UserError(f"--device {device}: {torch.cuda.device_count()} CUDA GPU(s) visible; use --device cpu or another index")
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
