"""`Predictor`: a trained model as a plain function on numpy arrays and files.

The CLI, the napari plugin and pipeline code all go through this class, so normalization,
tiling, blending, precision and decoding happen the same way everywhere. Images of any size are
cut into overlapping tiles (see `tiling.py`), run in batches on the device and blended back; the
result keeps the input's plane axes and, for image outputs, its pixel type. An OME-Zarr input is read
tile by tile from its store, and an OME-Zarr image result is written band by band as tiles are
blended, so neither needs to fit in memory. Segmentation models get a `Segmenter`
(`segmenting.py`), which decodes the network's maps into labels.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from img2img.errors import UserError, first_line
from img2img.inference import compiling, precision as bf16_check
from img2img.inference.batch import BatchReport, run_files, write_outputs
from img2img.inference.device import default_batch, default_tile, resolve_device, resolve_precision
from img2img.inference.outputs import DEFAULT_TEMPLATE, check_writable, plan_outputs
from img2img.inference.tiling import TileGrid, blend_rows, round_up
from img2img.io.axes import canonical_axes, from_planes, guess_axes, to_planes
from img2img.io.channels import CHANNELS_READ, adapt_channels
from img2img.io.images import Image, is_zarr, read_image
from img2img.io.lazy import LazyPixels
from img2img.inference.masks import HoleMasks
from img2img.inference.object_scale import ObjectScale
from img2img.io.normalization import cast_clipped, unscale_from_unit
from img2img.kinds import kind_of
from img2img.models.checkpoint import load_model
from img2img.models.base import ImageModule
from img2img.segmentation.stitching import parse_stitch

OUTPUT_DTYPES = ("same", "uint8", "uint16", "float32")
# `precision` when bf16 as a whole failed the check but a ResNet's residual blocks alone pass it
# (float32 elsewhere; nets/resnet.py).
BF16_BLOCKS = "bf16-blocks"


class Predictor:
    """Run one model on arrays or files.

    tile / overlap: tile side and overlap in input pixels (default: 8x the size multiple, 512-2048 px;
    an overlap of twice the generator's receptive field, at most an eighth of the tile).
    precision: 'auto' (bf16 autocast where the hardware has it and the task's measure on a fixed
    probe says it changes nothing that matters, see `precision.py`; a ResNet that fails it may keep
    bf16 in its residual blocks, `BF16_BLOCKS`), '32' or 'bf16'.
    channels: which input channels feed the model, e.g. [0, 2]; without it, models trained with
    `input_channels` gray or rgb convert any image themselves.
    compile: 'auto' (torch.compile for planes whose work repays it, see `compiling.py`), 'on'/True
    or 'off'/False.
    diameter, tta, stitch: for segmentation models (`Segmenter`, which `Predictor(model)` returns
    for them); image models refuse them with a one-line error.
    """

    _for_task: dict[str, type["Predictor"]] = {}  # task -> the subclass that serves it (segmenting.py)

    def __init_subclass__(cls, task: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if task is not None:
            Predictor._for_task[task] = cls

    def __new__(cls, model: ImageModule, *args, **kwargs):
        """`Predictor(model)` is the task's own class: a `Segmenter` for a segmentation model.
        (img2img/inference/__init__.py imports segmenting.py, so it is always registered.)"""
        if cls is Predictor:
            cls = Predictor._for_task.get(model.config.task, cls)
        return super().__new__(cls)

    def __init__(
        self,
        model: ImageModule,
        device: str = "auto",
        tile: int | None = None,
        overlap: int | None = None,
        batch_size: int | None = None,
        precision: str = "auto",
        channels: list[int] | None = None,
        output_dtype: str = "same",
        channels_last: bool | None = None,
        direction: str | None = None,
        mask_dir: Path | None = None,
        mask_rule: str | None = None,
        compile: bool | str | None = "auto",
        diameter: float | str | None = None,
        tta: bool = False,
        stitch: float | str | None = "auto",
    ):
        self.device = torch.device(resolve_device(device))
        self.model = model.eval().to(self.device)
        self.config = model.config
        self.kind = kind_of(self.config)  # what the registry says of this model: mask input, scale, directions
        self.in_channels, self.out_channels = model.in_channels, model.out_channels
        # Pixel types of the images the model was trained to read and to make.
        self.trained_dtypes = (model.hparams.get("input_dtype"), model.hparams.get("target_dtype"))
        if direction is None and self.kind.directions and model.direction != self.kind.directions[0]:
            direction = model.direction  # set by the checkpoint (a CycleGAN package of one direction)
        if direction is not None:
            self._set_direction(direction)
        self.multiple = model.size_multiple
        self.tile = round_up(_positive("--tile", tile) or default_tile(self.multiple, self.device), self.multiple)
        self.overlap = self._default_overlap() if overlap is None else _checked_overlap(overlap, self.tile)
        self.batch_size = _positive("--batch-size", batch_size) or default_batch(self.device)
        self.precision = resolve_precision(precision, self.device)
        self._precision_checked = precision != "auto"
        # channels_last pays off with bf16 on CPUs; on GPUs eager ResNets got slower with it.
        self._auto_channels_last = channels_last is None and self.device.type == "cpu" and self.precision == "bf16"
        self.channels_last = self._auto_channels_last if channels_last is None else channels_last
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.channels = channels
        if output_dtype not in OUTPUT_DTYPES:
            raise UserError(f"--output-dtype {output_dtype}: use one of {', '.join(OUTPUT_DTYPES)}")
        self.output_dtype = output_dtype
        self.on_tiles: Callable[[int], None] | None = None  # progress hook: called with tiles done
        self.masks = HoleMasks(mask_dir, mask_rule, needed=self.kind.takes_mask)
        if diameter is not None:
            raise UserError(f"--diameter {diameter}: object size is for segmentation models; this model makes images")
        if tta:
            raise UserError("--tta averages segmentation maps; this model makes images")
        if parse_stitch(stitch) != "auto":
            raise UserError(f"--stitch {stitch}: joins segmented objects through a stack; this model makes images")
        self.object_scale = ObjectScale(None, None)  # images are taken at their own size
        self.compile = compiling.compile_setting(compile)
        self._compiled: torch.nn.Module | None = None
        self._use_compiled = False  # decided per plane from its work (compiling.py)
        self._flops_per_pixel: float | None = None

    def _set_direction(self, direction: str) -> None:
        """CycleGAN: run B -> A, which reads B's channels and pixel type and makes A's."""
        if not self.kind.directions:
            raise UserError(f"--direction {direction}: only CycleGAN models run in two directions")
        self.model.direction = direction
        if direction == "BtoA":
            self.in_channels, self.out_channels = self.out_channels, self.in_channels
            self.trained_dtypes = self.trained_dtypes[::-1]

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", **options) -> "Predictor":
        return cls(load_model(path), device=device, **options)

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def scale(self) -> int:
        """Output pixels per input pixel along each axis (super-resolution models say more than 1)."""
        return int(self.kind.output_scale(self.config.model))

    def _default_overlap(self) -> int:
        """Twice the receptive field, so the dropped margin (a quarter of it) covers its radius and
        tiles equal a whole-image pass; capped at an eighth of the tile, which costs 30% extra work."""
        field = getattr(self.model.generator, "receptive_field", None) or self.tile
        return min(self.tile // 8, round_up(2 * field, 16))

    # --- arrays --------------------------------------------------------------------------
    def predict(self, image: np.ndarray, axes: str | None = None, tile: int | None = None,
                overlap: int | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        """The model's result with the input's plane axes kept (YX -> YX, ZYX -> ZYX).

        Segmentation: uint16 instance labels (uint32 above 65,535 objects). Image models: the
        translated image in the input's pixel type (or `output_dtype`), with channels where the
        input had them. `tile` and
        `overlap` override the Predictor's for this call. Inpainting: `mask` (Y, X), nonzero = fill,
        joined with the Predictor's mask rules; known pixels come back unchanged.
        """
        with self._tiling(tile, overlap):
            return self._predict(pixel_source(image), axes, mask)

    def _predict(self, image: np.ndarray, axes: str | None, mask: np.ndarray | None = None,
                 into=None) -> np.ndarray | None:
        """`predict`; with `into` (a (planes, C, Y, X) array-like, e.g. an OME-Zarr being written)
        the result goes there band by band instead, and None is returned."""
        axes = canonical_axes(axes or guess_axes(image.shape, self.in_channels))
        planes, plane_axes = self._planes(image, axes)
        out_axes = self.output_axes(axes)
        if into is not None:
            self._fill(planes, mask, into)
            return None
        out = np.empty((len(planes), self.out_channels) + self._out_size(planes), self.result_dtype(image.dtype))
        self._fill(planes, mask, out)
        if "C" not in out_axes:
            out = out[:, 0]
        return from_planes(out, self._plane_shape(image, axes, plane_axes), out_axes)

    def _fill(self, planes, mask: np.ndarray | None, out) -> None:
        """Write every plane's result into `out` (planes, C, Y, X) in its pixel type.

        Results are written band by band as `_blend` yields them. Only `out[k, :, rows]` is
        assigned, so `out` may be a store that cannot take a masked write.
        """
        dtype = np.dtype(out.dtype)
        for k, plane in enumerate(planes):
            lo, hi = self._output_range(plane)
            holes = known = None
            if self.masks.needed:  # inpainting reads the whole plane (mask rules, known pixels)
                plane = np.asarray(plane)
                holes = self.masks.for_plane(plane, mask)
                known = ~holes
            for row, band in self._blend(plane, holes):
                values = unscale_from_unit(band, lo, hi, dtype)
                rows = slice(row, row + values.shape[1])
                if known is not None:  # exactly the input's values outside the holes, not a rounded round trip
                    values[:, known[rows]] = cast_clipped(plane[:, rows][:, known[rows]], dtype)
                out[k, :, rows] = values

    def predict_probabilities(self, image: np.ndarray, axes: str | None = None, tile: int | None = None,
                              overlap: int | None = None) -> np.ndarray:
        """The network's output mapped to [0, 1], as (planes..., C, Y, X) float32.

        For segmentation, channel 0 is the foreground probability and channel 1 the object-centre map.
        Large planes are filled band by band, so only the result is held whole.
        """
        image = pixel_source(image)
        axes = canonical_axes(axes or guess_axes(image.shape, self.in_channels))
        with self._tiling(tile, overlap):
            planes, plane_axes = self._planes(image, axes)
            out = np.empty((len(planes), self.out_channels) + self._out_size(planes), np.float32)
            for k, plane in enumerate(planes):
                self._plane_probabilities(plane, out[k])
        return from_planes(out, self._plane_shape(image, axes, plane_axes), plane_axes + "CYX")

    def _plane_probabilities(self, plane: np.ndarray, out: np.ndarray) -> None:
        out[:] = self._blend_whole(plane)

    @contextlib.contextmanager
    def _tiling(self, tile: int | None, overlap: int | None) -> Iterator[None]:
        """Use another tile size and overlap for one call (they must still fit together).

        Without overrides nothing is touched, so a tile shrunk after running out of memory stays
        small for the next image.
        """
        if tile is None and overlap is None:
            yield
            return
        saved = self.tile, self.overlap
        tile = self.tile if tile is None else round_up(tile, self.multiple)
        if overlap is None:
            overlap = self.overlap if self.overlap < tile else tile // 4
        self.tile, self.overlap = tile, _checked_overlap(overlap, tile)
        try:
            yield
        finally:
            self.tile, self.overlap = saved

    def output_axes(self, axes: str) -> str:
        """Axes of `predict`'s result for an input with `axes`."""
        axes = canonical_axes(axes)
        plane_axes = "".join(a for a in axes if a not in "CYX")
        if self.out_channels == 1:
            return plane_axes + "YX"
        return axes if "C" in axes else plane_axes + "CYX"

    def result_dtype(self, input_dtype: np.dtype) -> np.dtype:
        """'same' is the input's pixel type, unless the model was trained to produce another one
        (8-bit brightfield -> 16-bit fluorescence): then that type. Labels: uint16 (the result
        itself says uint32 when a plane has more than 65,535 objects)."""
        if self.output_dtype != "same":
            return np.dtype(self.output_dtype)
        trained_in, trained_out = self.trained_dtypes
        return np.dtype(trained_out if trained_out and trained_out != trained_in else input_dtype)

    # --- one plane -----------------------------------------------------------------------
    def _planes(self, image: np.ndarray, axes: str) -> tuple[np.ndarray, str]:
        """(planes, C, Y, X) view of `image` with the model's input channels picked."""
        self._check_pixel_type(image.dtype)
        planes, plane_axes = to_planes(image, axes)
        n = planes.shape[1]
        if self.channels is not None:
            bad = [c for c in self.channels if not 0 <= c < n]
            if bad:
                raise UserError(f"--channels {','.join(map(str, self.channels))}: the image has channels 0..{n - 1} only")
            if len(self.channels) != self.in_channels:
                raise UserError(f"--channels names {len(self.channels)} channel(s) but the model takes {self.in_channels}")
            planes = planes[:, self.channels]
        elif self.config.input_channels != "as_stored":
            if n == 1 and self.config.input_channels == "rgb":  # a view: a 16k plane copied 3x is 1.5 GB
                planes = np.broadcast_to(np.asarray(planes), (len(planes), 3) + planes.shape[2:])
            elif n != CHANNELS_READ[self.config.input_channels] or self.config.input_channels == "gray":
                planes = adapt_channels(np.asarray(planes), self.config.input_channels)
        elif n != self.in_channels:
            hint = ",".join(["0"] * self.in_channels) if n == 1 else ",".join(map(str, range(self.in_channels)))
            raise UserError(
                f"image has {n} channel(s) (axes '{axes}') but the model takes {self.in_channels}; "
                f"choose them with --channels (e.g. --channels {hint})"
            )
        return planes, plane_axes

    @staticmethod
    def _plane_shape(image: np.ndarray, axes: str, plane_axes: str) -> tuple[int, ...]:
        return tuple(image.shape[axes.index(a)] for a in plane_axes)

    def _out_size(self, planes: np.ndarray) -> tuple[int, int]:
        return planes.shape[-2] * self.scale, planes.shape[-1] * self.scale

    def _check_pixel_type(self, dtype: np.dtype) -> None:
        """With `dtype` normalization the pixel type sets the scale, so it must match training."""
        trained = self.trained_dtypes[0]
        if self.config.normalization.mode == "dtype" and trained and np.dtype(dtype) != np.dtype(trained):
            raise UserError(
                f"pixel type {dtype} differs from the {trained} images this model was trained on "
                f"(normalization mode 'dtype'); convert the images to {trained}"
            )

    def _blend_whole(self, plane: np.ndarray) -> np.ndarray:
        """(C_out, H, W) float32 in [0, 1] for one plane."""
        out = np.empty((self.out_channels,) + self._out_size(plane), np.float32)
        for row, band in self._blend(plane):
            out[:, row : row + band.shape[1]] = (band + 1.0) / 2.0
        return out

    def _blend(self, plane: np.ndarray, holes: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Blended network output ([-1, 1]) of one (C, H, W) plane, band by band.

        `holes` (inpainting) rides along as the last input channel, so tiles of image and mask
        match; the intensity range comes from the known pixels only (saturated holes would skew it).
        On CUDA out-of-memory the plane is redone with half the batch, then half the tile.
        """
        norm = self.config.normalization
        if holes is None:
            lo, hi = norm.range_of(plane)

            def prepare(tile: np.ndarray) -> np.ndarray:
                return norm.apply(tile, lo, hi)
        else:
            known = np.asarray(plane)[:, ~holes]
            lo, hi = norm.range_of(known[:, :, None] if known.size else np.asarray(plane))
            plane = np.concatenate([np.asarray(plane, np.float32), holes[None].astype(np.float32)])

            def prepare(tile: np.ndarray) -> np.ndarray:
                return np.concatenate([norm.apply(tile[:-1], lo, hi), tile[-1:]])

        self._use_compiled = self._compile_plane(plane.shape[-2] * plane.shape[-1], plane.shape[0])
        while True:
            grid = TileGrid.plan(plane.shape[1], plane.shape[2], self.tile, self.overlap, self.multiple)
            try:
                # A retry re-yields every row from the top, so the caller's array is simply overwritten.
                yield from blend_rows(plane, grid, self._run_batch, prepare, self.out_channels, self.scale,
                                      self.batch_size, self.on_tiles)
                return
            except torch.OutOfMemoryError:
                self._shrink_after_oom()

    def _shrink_after_oom(self) -> None:
        torch.cuda.empty_cache()
        if self.batch_size > 1:
            self.batch_size //= 2
        elif self.tile // 2 >= max(self.multiple, 2 * self.overlap, 64):
            self.tile //= 2
            self.overlap = min(self.overlap, self.tile // 4)
        else:
            raise UserError(f"{self.device}: out of memory even with one {self.tile} px tile; use --device cpu") from None
        warnings.warn(f"out of GPU memory; retrying with tile {self.tile} px, batch {self.batch_size}", stacklevel=2)

    @torch.inference_mode()
    def _run_batch(self, tiles: list[np.ndarray]) -> Iterator[np.ndarray]:
        x = torch.from_numpy(np.stack(tiles))
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self._precision_checked:
            self._check_bf16(x.shape[1])
            if self.channels_last != x.is_contiguous(memory_format=torch.channels_last):
                x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        y = self._forward(x)
        return iter(y.float().cpu().numpy())

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            if self._use_compiled:
                try:
                    return self._compiled_model()(x)
                except Exception as error:  # e.g. no C++ compiler for the CPU backend: eager still works
                    warnings.warn(f"--compile failed ({first_line(error, typed=True)}); "
                                  "running without it", stacklevel=2)
                    self.compile, self._use_compiled, self._compiled = "off", False, None
            return self.model(x)

    def _compiled_model(self) -> torch.nn.Module:
        if self._compiled is None:
            compiling.use_persistent_cache()
            self._compiled = torch.compile(self.model, dynamic=False)
        return self._compiled

    def _compile_plane(self, pixels: int, channels: int) -> bool:
        """Whether this plane runs compiled: always with 'on', never with 'off', and with 'auto'
        when its eager work repays compiling (a rule of the model, device and plane size only)."""
        if self.compile != "auto":
            return self.compile == "on"
        generator = self.model.generator_ba if self.kind.directions and self.model.direction == "BtoA" else self.model.generator
        if type(generator).__name__ not in compiling.COMPILE_PAYS:
            return False
        if self._flops_per_pixel is None:
            side = max(1, 64 // self.multiple) * self.multiple
            self._flops_per_pixel = compiling.flops_per_pixel(self.model, channels, side, self.device)
        work = self._flops_per_pixel * pixels * (1 + self.overlap / max(1, self.tile - self.overlap)) ** 2
        return compiling.worth_compiling(generator, work, self.device)

    def _check_bf16(self, channels: int) -> None:
        """Once per Predictor: keep bf16 only where the task's own measure says it changes
        nothing that matters (`precision.py`): decoded labels for segmenters, PSNR for images.

        The check runs eagerly on a fixed probe, not on the data, so the choice depends on the
        model and the device alone: a file gives the same result alone or in a folder, in any
        order, sharded or resumed (on the first tile it once did not).
        """
        self._precision_checked = True
        if self.precision != "bf16":
            return
        verdict = self._bf16_verdict(channels)
        if verdict.keep:
            return
        if self._bf16_block_generators():  # a ResNet: try its residual blocks alone in bf16
            blocks = self._bf16_verdict(channels, blocks_only=True)
            if blocks.keep:
                self.precision = BF16_BLOCKS
                self._float32_layout()
                return
            self._set_bf16_blocks(None)
            verdict = bf16_check.Verdict(False, f"{verdict.measured}; residual blocks alone: {blocks.measured}")
        warnings.warn(f"{verdict.measured}: using float32", stacklevel=2)
        self.precision = "32"
        self._float32_layout()

    def _float32_layout(self) -> None:
        if self._auto_channels_last:  # chosen for bf16 on a CPU; plain layout is faster in float32
            self.channels_last = self._auto_channels_last = False
            self.model.to(memory_format=torch.contiguous_format)

    def _bf16_block_generators(self) -> list[torch.nn.Module]:
        """The model's generators that can run their residual blocks alone in bf16 (nets/resnet.py)."""
        generators = (getattr(self.model, name, None) for name in ("generator", "generator_ba"))
        return [g for g in generators if g is not None and hasattr(g, "bf16_blocks_on")]

    def _set_bf16_blocks(self, device_type: str | None) -> None:
        for generator in self._bf16_block_generators():
            generator.bf16_blocks_on = device_type

    def _both_precisions(self, probe: np.ndarray, blocks_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The eager network's float32 and bf16 outputs for a (1, C, H, W) probe; `blocks_only`:
        bf16 in the generator's residual blocks alone (this leaves them set so)."""
        x = torch.from_numpy(probe).to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            with torch.autocast(self.device.type, enabled=False):
                reference = self.model(x).float().cpu().numpy()
                if blocks_only:
                    self._set_bf16_blocks(self.device.type)
                    return reference, self.model(x).float().cpu().numpy()
            compiled, self._use_compiled = self._use_compiled, False  # the choice must not depend on compiling
            try:
                bf16 = self._forward(x).float().cpu().numpy()
            finally:
                self._use_compiled = compiled
        return reference, bf16

    def _bf16_verdict(self, channels: int, blocks_only: bool = False) -> bf16_check.Verdict:
        """Whether bf16 changes the output by less than the model's PSNR can notice."""
        side = max(1, 256 // self.multiple) * self.multiple
        reference, bf16 = self._both_precisions(bf16_check.image_probe(channels, side), blocks_only)
        return bf16_check.judge_image(reference, bf16, bf16_check.recorded_psnr(getattr(self.model, "training_card", None)))

    def _output_range(self, plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per output channel (lo, hi) that [-1, 1] maps back to, in the target's intensity units.

        Fixed and dtype normalization define the target's scale outright. Percentile
        normalization has no fixed scale, so the input's own range is used: right for
        restoration (denoising, deconvolution), where input and target share units.
        """
        norm = self.config.target_norm
        target_dtype = self.trained_dtypes[1] or self.trained_dtypes[0] or "float32"
        if norm.mode == "percentile":
            lo, hi = norm.range_of(plane)
            if len(lo) != self.out_channels:
                lo, hi = np.full(self.out_channels, lo.mean()), np.full(self.out_channels, hi.mean())
            return lo, hi
        sample = np.zeros((self.out_channels, 1, 1), dtype=target_dtype)
        return norm.range_of(sample)

    # --- files ---------------------------------------------------------------------------
    def predict_file(self, source: Path, destination: Path, probabilities: Path | None = None) -> Path:
        """The result for one file as a TIFF (or OME-Zarr, by `destination`'s suffix) with the
        input's axes and pixel size (and the probability maps, float32, if asked)."""
        return write_outputs(self.results_for(read_image(source, lazy=True), destination, probabilities))

    def results_for(self, image: Image, destination: Path, probabilities: Path | None = None) -> list[tuple]:
        """(path, array, axes, resolution[, kind]) to write for `image`: the result first, then the
        maps (segmenters). An OME-Zarr `destination` is written here while predicting; its entry has
        no array."""
        warn_nonfinite(image)
        if probabilities is not None:
            raise UserError("probability maps are for segmentation models; this model writes images")
        mask = self.masks.from_file(image.path, image.data.shape, image.axes) if self.masks.needed else None
        resolution = image.resolution.scaled(self.scale) if image.resolution else None
        out_axes = self.output_axes(image.axes)
        if is_zarr(destination):
            from img2img.io import ome_zarr

            shape = self.output_shape(image.data.shape, image.axes)
            with ome_zarr.create(destination, shape, self.result_dtype(image.data.dtype), out_axes, resolution) as into:
                self._predict(pixel_source(image.data), image.axes, mask, into=into)
            return [(destination, None, out_axes, resolution)]
        return [(destination, self.predict(image.data, image.axes, mask=mask), out_axes, resolution, "image")]

    def output_shape(self, shape: tuple[int, ...], axes: str) -> tuple[int, ...]:
        """Shape of `predict`'s result (in `output_axes` order) for an input of `shape` and `axes`."""
        axes = canonical_axes(axes)
        sizes = dict(zip(axes, shape))
        sizes.update(C=self.out_channels, Y=sizes.get("Y", 0) * self.scale, X=sizes.get("X", 0) * self.scale)
        return tuple(sizes[a] for a in self.output_axes(axes))

    def count_tiles(self, shape: tuple[int, ...], axes: str, tile: int | None = None) -> int:
        """Tiles a file of this shape takes (for progress bars), with `tile` as `predict` takes it."""
        axes = canonical_axes(axes)
        planes = int(np.prod([n for n, a in zip(shape, axes) if a not in "CYX"], dtype=np.int64))
        with self._tiling(tile, None):
            grid = TileGrid.plan(shape[axes.index("Y")], shape[axes.index("X")], self.tile, self.overlap, self.multiple)
        return planes * len(grid)

    def predict_files(
        self, sources, output_dir: Path, save_probabilities: bool = False, progress: bool = True,
        template: str = DEFAULT_TEMPLATE, skip_existing: bool = False,
    ) -> BatchReport:
        """Run on every file; a failing file is reported in the returned `BatchReport` and skipped."""
        jobs = plan_outputs(list(sources), Path(output_dir), probabilities=save_probabilities, template=template)
        check_writable(jobs, skip_existing)  # a read-only or full output folder fails before any image is run
        return run_files(self, jobs, skip_existing=skip_existing, progress=progress)


def probe_as_dtype(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A uint16 probe rescaled to the full range of another pixel type (dtype-normalized models)."""
    if dtype.kind == "f":
        return (image / 65535.0).astype(dtype)
    return (image.astype(np.float64) / 65535 * np.iinfo(dtype).max).round().astype(dtype)


def warn_nonfinite(image: Image) -> None:
    """Say when a float image holds NaN or Inf: normalization reads NaN and -Inf as the low end
    and +Inf as the high end (NaN often marks areas outside a stitched or masked field), which is
    right for masked areas but hides a broken export, so it must not pass in silence."""
    data = image.data
    if data.dtype.kind != "f" or data.ndim == 0:
        return
    rows = max(1, int(_NONFINITE_BLOCK_BYTES // max(1, data.dtype.itemsize * math.prod(data.shape[1:]))))
    bad = sum(int(np.count_nonzero(~np.isfinite(np.asarray(data[i : i + rows])))) for i in range(0, data.shape[0], rows))
    if bad:
        warnings.warn(f"{image.path.name}: {bad} NaN/Inf pixel(s) ({bad / math.prod(data.shape):.2%}); "
                      "NaN and -Inf are read as the image's low end, +Inf as its high end", stacklevel=3)


_NONFINITE_BLOCK_BYTES = 64e6  # rows read at a time, so a memory-mapped float image is never copied whole


def pixel_source(image) -> np.ndarray | LazyPixels:
    """An array to predict on; a lazily read store stays in its store."""
    return image if isinstance(image, LazyPixels) else np.asarray(image)


def _positive(option: str, value: int | None) -> int | None:
    """None (the default) or a whole number of at least 1: a zero or negative size once gave
    all-zero results with exit 0."""
    if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise UserError(f"{option} {value}: must be a whole number of at least 1, or left out for the default")
    return value


def _checked_overlap(overlap: int, tile: int) -> int:
    if not 0 <= overlap < tile:
        raise UserError(f"overlap {overlap} must be at least 0 and smaller than the tile ({tile} px)")
    return overlap
