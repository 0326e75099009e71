"""The example an export is checked on: an input image and what our own Predictor makes of it.

Every export is verified before it is put in place: the exported network (TorchScript, ONNX,
or the state dict rebuilt) must reproduce the Predictor's network output on this example. The
Predictor runs it as one tile (the example is a whole number of the network's size multiple), so
the comparison is of the network and its normalization, not of tile blending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from img2img.errors import UserError
from img2img.inference.precision import image_probe
from img2img.inference.predictor import Predictor
from img2img.inference.tiling import round_up
from img2img.io.axes import canonical_axes, guess_axes
from img2img.io.images import read_image
from img2img.io.normalization import cast_clipped
from img2img.export.processing import dtype_range, input_scaling

DEFAULT_SIDE = 128  # example side without a sample image (rounded up to the size multiple)
MAX_SIDE = 256  # a sample image is centre-cropped to at most this


@dataclass
class Example:
    image: np.ndarray  # (C, H, W) in the model's input pixel type
    holes: np.ndarray | None  # inpainting: (H, W) bool, True = fill
    output: np.ndarray  # (C_out, H*s, W*s) float32: the Predictor's network output in [-1, 1]


def make_example(predictor: Predictor, sample: Path | None = None) -> Example:
    image = _sample_image(predictor, sample) if sample else _synthetic_image(predictor)
    holes = _holes(image.shape[-2:]) if predictor.masks.needed else None
    return Example(image, holes, predictor_output(predictor, image, holes))


def predictor_output(predictor: Predictor, image: np.ndarray, holes: np.ndarray | None = None) -> np.ndarray:
    """The Predictor's blended network output in [-1, 1] for one (C, H, W) plane, as one tile."""
    side = round_up(max(image.shape[-2:]), predictor.multiple)
    predictor.tile, predictor.overlap = max(predictor.tile, side), 0
    out = np.empty((predictor.out_channels,) + tuple(n * predictor.scale for n in image.shape[-2:]), np.float32)
    for row, band in predictor._blend(image, holes):
        out[:, row : row + band.shape[1]] = band
    return out


def _synthetic_image(predictor: Predictor) -> np.ndarray:
    """Smooth blobs and edges at several scales (the bf16 check's `inference.precision.image_probe`),
    or synthetic nuclei for segmenters, spanning the intensities the model's normalization maps onto [-1, 1] (the pixel
    type's range for percentile scaling)."""
    side = round_up(DEFAULT_SIDE, predictor.multiple)
    field = (image_probe(predictor.in_channels, side)[0] + 1.0) / 2.0
    if predictor.task == "segmentation":  # synthetic nuclei: a cover that shows what the model is for
        from img2img.data.synthetic.cells import render_cells

        nuclei = render_cells(np.random.default_rng(20261205), (side, side))[0].astype(np.float32)
        nuclei = (nuclei - nuclei.min()) / max(float(np.ptp(nuclei)), 1e-6)
        field = np.repeat(nuclei[None], predictor.in_channels, axis=0)
    dtype = predictor.trained_dtypes[0] or "float32"
    scaling = input_scaling(predictor.config.normalization, dtype)
    lo, hi = dtype_range(dtype) if scaling.mode == "percentile" else \
        ((-1.0 - scaling.offset) / scaling.gain, (1.0 - scaling.offset) / scaling.gain)
    return cast_clipped(lo + field * (hi - lo) * 0.8 + 0.1 * (hi - lo), dtype)


def _sample_image(predictor: Predictor, path: Path) -> np.ndarray:
    """The first plane of `path` with the model's input channels, centre-cropped to a whole number
    of size multiples (at most MAX_SIDE px a side)."""
    image = read_image(Path(path))
    planes, _ = predictor._planes(np.asarray(image.data), canonical_axes(image.axes or guess_axes(image.data.shape, predictor.in_channels)))
    plane = np.asarray(planes[0])
    m = predictor.multiple
    size = [min(n, max(MAX_SIDE, m)) // m * m for n in plane.shape[-2:]]
    if min(size) < m:
        raise UserError(f"--sample {path}: {plane.shape[-2]}x{plane.shape[-1]} px is smaller than the {m} px "
                        "this network needs; give a larger image")
    top, left = ((n - s) // 2 for n, s in zip(plane.shape[-2:], size))
    return np.ascontiguousarray(plane[:, top : top + size[0], left : left + size[1]])


def _holes(shape: tuple[int, int]) -> np.ndarray:
    """A fixed hole mask for inpainting examples: a box and a line, about 8% of the pixels."""
    holes = np.zeros(shape, bool)
    h, w = shape
    holes[h // 4 : h // 4 + max(2, h // 6), w // 3 : w // 3 + max(2, w // 5)] = True
    holes[(2 * h) // 3, :] = True
    return holes
