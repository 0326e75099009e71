"""Running a BioImage.IO model package from elsewhere, with its own pre- and post-processing.

Packages written by `img2img export` carry their checkpoint and run through our `Predictor`
(`models/packages.py`). Any other package is run by bioimageio.core's prediction pipeline, which
applies the package's declared processing: we only pick a weight format we can run
(TorchScript, then the PyTorch state dict, then ONNX), shape each plane of an image into the
package's axes, pad it to a size the package accepts (reflect) and crop the result back; large
planes run in blended tiles where the package's post-processing allows it. Files go
through the same batch machinery as our models (`run_files`), so naming, skipping, failures and
atomic writes are the same. Supported: one 2D input (channel, y, x; batch optional) and image outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.errors import UserError, first_line
from img2img.io.axes import canonical_axes, from_planes, guess_axes, to_planes
from img2img.inference.object_scale import ObjectScale
from img2img.io.images import Image

WEIGHT_PRIORITY = ("torchscript", "pytorch_state_dict", "onnx")
# Planes above this many pixels run in tiles where that gives the same result (`_tileable`).
TILE_ABOVE_PIXELS = 2048 * 2048
TILE, TILE_OVERLAP = 1024, 128
POINTWISE = {"scale_linear", "sigmoid", "clip", "binarize", "ensure_dtype", "fixed_zero_mean_unit_variance", "softmax"}


class BmzPredictor:
    """The subset of `Predictor` that `run_files` and `img2img infer` use, for a foreign package."""

    task = "translation"  # outputs are images (maps), written as float32
    scale = 1

    def __init__(self, path: Path, device: str = "auto", channels: list[int] | None = None):
        try:
            from bioimageio.core import create_prediction_pipeline, load_description
            from bioimageio.spec import InvalidDescr
        except ImportError:
            raise UserError("running BioImage.IO packages needs bioimageio.core: "
                            "pip install 'img2img-microscopy[export]'") from None
        self.path = Path(path)
        try:  # older (0.4) descriptions are converted to 0.5, whose axes this class reads
            descr = load_description(self.path, format_version="latest", perform_io_checks=False)
        except Exception as exc:
            raise UserError(f"{self.path}: cannot read its description ({first_line(exc)})") from None
        if isinstance(descr, InvalidDescr) or getattr(descr, "type", None) != "model":
            raise UserError(f"{self.path}: not a valid BioImage.IO model description ({_first_error(descr)})")
        self.descr = descr
        weights = [f for f in WEIGHT_PRIORITY if getattr(descr.weights, f, None) is not None]
        if not weights:
            present = [f for f, w in descr.weights if w is not None]
            raise UserError(f"{self.path}: weights in {', '.join(present) or 'no format'} only; img2img runs "
                            f"{', '.join(WEIGHT_PRIORITY)} weights")
        self.weight_format = weights[0]
        if len(descr.inputs) != 1:
            raise UserError(f"{self.path}: the package takes {len(descr.inputs)} inputs; img2img runs packages with one")
        self.input = descr.inputs[0]
        self.output = descr.outputs[0]
        self.in_axes = [str(a.id) if a.type != "batch" else "batch" for a in self.input.axes]
        unsupported = set(self.in_axes) - {"batch", "channel", "y", "x"}
        if unsupported or not {"y", "x"} <= set(self.in_axes):
            raise UserError(f"{self.path}: input axes {self.in_axes}; img2img runs 2D packages (channel, y, x)")
        channel = next((a for a in self.input.axes if a.type == "channel"), None)
        self.in_channels = len(channel.channel_names) if channel is not None else 1
        self.channels = channels
        devices = None if device == "auto" else [device]
        try:
            self.pipeline = create_prediction_pipeline(descr, weight_format=self.weight_format, devices=devices)
        except Exception as exc:
            raise UserError(f"{self.path}: cannot load its {self.weight_format} weights ({first_line(exc)})") from None
        self.on_tiles = None
        self.device = device
        self.object_scale = ObjectScale(None, None)  # packages take images as they are (for the napari status)

    @property
    def out_channels(self) -> int:
        channel = next((a for a in self.output.axes if a.type == "channel"), None)
        return len(channel.channel_names) if channel is not None else 1

    def count_tiles(self, shape: tuple[int, ...], axes: str, tile: int | None = None) -> int:
        axes = canonical_axes(axes)
        return int(np.prod([n for n, a in zip(shape, axes) if a not in "CYX"], dtype=np.int64))

    def output_axes(self, axes: str) -> str:
        """Axes of `predict`'s result for an input with `axes` (as `Predictor.output_axes`)."""
        plane_axes = "".join(a for a in canonical_axes(axes) if a not in "CYX")
        return plane_axes + ("YX" if self.out_channels == 1 else "CYX")

    def predict(self, image: np.ndarray, axes: str | None = None, tile: int | None = None) -> np.ndarray:
        """Float32 results for an image with `axes`, in `output_axes(axes)` order. `tile` is
        accepted for the napari widget and ignored: packages run whole planes."""
        image = np.asarray(image)
        axes = canonical_axes(axes or guess_axes(image.shape, self.in_channels))
        planes, plane_axes = to_planes(image, axes)
        if self.channels is not None:
            planes = planes[:, self.channels]
        if planes.shape[1] != self.in_channels:
            raise UserError(f"image has {planes.shape[1]} channel(s) but the package takes {self.in_channels}; "
                            "choose them with --channels")
        results = []
        for plane in planes:
            results.append(self._run_plane(np.asarray(plane)))
            if self.on_tiles:
                self.on_tiles(1)
        out = np.stack(results)
        out_axes = self.output_axes(axes)
        return from_planes(out if "C" in out_axes else out[:, 0], tuple(image.shape[axes.index(a)] for a in plane_axes), out_axes)

    def results_for(self, image: Image, destination: Path, probabilities: Path | None = None) -> list[tuple]:
        if probabilities is not None:
            raise UserError("--probabilities is for img2img segmentation models; this package's outputs are written as they are")
        result = self.predict(image.data, image.axes)
        resolution = image.resolution.scaled(result.shape[-1] // image.data.shape[canonical_axes(image.axes).index("X")]) \
            if image.resolution and result.shape[-1] >= image.data.shape[canonical_axes(image.axes).index("X")] else None
        return [(destination, result, self.output_axes(image.axes), resolution)]

    def _run_plane(self, plane: np.ndarray) -> np.ndarray:
        """(C, H, W) -> (C_out, H', W') through the package's pipeline.

        The package's pre-processing runs on the image as it is (so per-image statistics such as
        percentiles or mean and variance are the image's own). The pre-processed plane is then run
        whole, padded (reflect) to a size the package accepts and cropped back, or, when it is large
        and the post-processing is pixel by pixel, in overlapping tiles blended as our models' are."""
        h, w = plane.shape[-2:]
        try:
            ready, stat = self._preprocessed(plane)
            if h * w > TILE_ABOVE_PIXELS and self._tileable():
                return self._run_tiled(ready, stat)
            return self._run_ready(ready, stat)
        except UserError:
            raise
        except Exception as exc:
            raise UserError(f"{self.path}: the package's pipeline failed ({first_line(exc, typed=True)})") from None

    def _preprocessed(self, plane: np.ndarray) -> tuple[np.ndarray, dict]:
        """The package's pre-processing of a whole (C, H, W) plane: (C, H, W) float32 and the statistics."""
        from bioimageio.core import Sample, Tensor

        member = str(self.input.id)
        sample = Sample(members={member: Tensor.from_numpy(self._to_input_axes(plane), dims=self.in_axes)},
                        stat={}, id="image")
        self.pipeline.apply_preprocessing(sample)
        data = sample.members[member].data
        data = data.squeeze([d for d in data.dims if d == "batch"])
        ready = data.transpose(*[d for d in ("channel", "y", "x") if d in data.dims]).to_numpy()
        return np.asarray(ready[None] if "channel" not in data.dims else ready, np.float32), sample.stat

    def _run_ready(self, ready: np.ndarray, stat: dict) -> np.ndarray:
        """A pre-processed (C, H, W) plane or tile through the network and post-processing."""
        from bioimageio.core import Sample, Tensor

        h, w = ready.shape[-2:]
        padded_h, padded_w = (self._valid_size(axis, n) for axis, n in (("y", h), ("x", w)))
        ready = np.pad(ready, ((0, 0), (0, padded_h - h), (0, padded_w - w)), mode="reflect" if min(h, w) > 1 else "edge")
        padded = Sample(members={str(self.input.id): Tensor.from_numpy(self._to_input_axes(ready), dims=self.in_axes)},
                        stat=stat, id="image")
        result = self.pipeline.predict_sample_without_blocking(padded, skip_preprocessing=True)
        out = result.members[str(self.output.id)].data
        keep = [d for d in ("channel", "y", "x") if d in out.dims]
        out = out.squeeze([d for d in out.dims if d not in keep]).transpose(*keep).to_numpy()
        if "channel" not in keep:
            out = out[None]
        fy, fx = out.shape[-2] / padded_h, out.shape[-1] / padded_w
        return np.ascontiguousarray(out[:, : round(h * fy), : round(w * fx)], dtype=np.float32)

    def _run_tiled(self, ready: np.ndarray, stat: dict) -> np.ndarray:
        """`_run_ready` tile by tile: TILE px tiles on the package's size step, TILE_OVERLAP px overlap,
        blended with the raised-cosine weights of `inference/tiling.py`."""
        from img2img.inference.tiling import TileGrid, blend_rows

        step = next(a for a in self.input.axes if str(a.id) == "y").size.step
        grid = TileGrid.plan(ready.shape[1], ready.shape[2], TILE, TILE_OVERLAP, step)
        out = np.empty((self.out_channels,) + ready.shape[1:], np.float32)
        for row, band in blend_rows(ready, grid, lambda tiles: (self._run_ready(t, stat) for t in tiles),
                                    lambda tile: tile, self.out_channels, 1, 1):
            out[:, row : row + band.shape[1]] = band
        return out

    def _tileable(self) -> bool:
        """Tiles give the whole plane's result when every post-processing step works pixel by pixel,
        outputs are the input's size, and y and x take every multiple of their step."""
        ops = [p.id for p in getattr(self.output, "postprocessing", [])]
        sizes = [next(a for a in self.input.axes if str(a.id) == axis).size for axis in ("y", "x")]
        same_size = all(getattr(a.size, "tensor_id", None) == self.input.id and a.scale == 1.0
                        and not getattr(a.size, "offset", 0) for a in self.output.axes if str(a.id) in ("y", "x"))
        return (all(op in POINTWISE for op in ops) and same_size and not getattr(self.output, "halo", None)
                and all(hasattr(size, "step") and size.min % size.step == 0 for size in sizes)
                and sizes[0].step == sizes[1].step)

    def _to_input_axes(self, plane: np.ndarray) -> np.ndarray:
        """(C, H, W) in the package's input axis order (batch of one where it has a batch axis), in the
        pixel type the package declares where the image has it, else float32 (its pre-processing casts)."""
        dims = ["channel", "y", "x"]
        array = plane if "channel" in self.in_axes else plane[0]
        if "channel" not in self.in_axes:
            dims = ["y", "x"]
        array = np.transpose(array, [dims.index(a) for a in self.in_axes if a != "batch"])
        if "batch" in self.in_axes:
            array = np.expand_dims(array, self.in_axes.index("batch"))
        declared = getattr(self.input.data, "type", None)
        return np.ascontiguousarray(array, dtype=array.dtype if array.dtype == np.dtype(declared or "float32") else np.float32)

    def _valid_size(self, axis: str, size: int) -> int:
        described = next(a for a in self.input.axes if str(a.id) == axis).size
        if isinstance(described, int):
            if size > described:
                raise UserError(f"{self.path}: the package takes {axis} = {described} px only; this image has {size}")
            return described
        if hasattr(described, "step"):
            return described.get_size(max(0, described.get_n(size)))
        return size


def package_summary(predictor: BmzPredictor) -> dict:
    """What `img2img info` shows for a package from elsewhere."""
    descr = predictor.descr
    return {"package": str(predictor.path), "name": descr.name, "description": descr.description,
            "weights": [f for f, w in descr.weights if w is not None], "runs_with": predictor.weight_format,
            "input": {"id": str(predictor.input.id), "axes": predictor.in_axes, "channels": predictor.in_channels,
                      "preprocessing": [p.id for p in getattr(predictor.input, "preprocessing", [])]},
            "output": {"id": str(predictor.output.id), "channels": predictor.out_channels,
                       "postprocessing": [p.id for p in getattr(predictor.output, "postprocessing", [])]},
            "note": "not made by img2img: runs with its own pre- and post-processing"}


def _first_error(descr) -> str:
    details = getattr(getattr(descr, "validation_summary", None), "details", None) or []
    for detail in details:
        for error in getattr(detail, "errors", []) or []:
            return f"{'.'.join(map(str, error.loc))}: {error.msg}"[:200]
    return "unknown reason"
