"""`Segmenter`: the `Predictor` of segmentation models, which make instance labels, not images.

A segmenter's network makes maps (foreground, object centres); labels are decoded from them by a
seeded watershed (`segmentation/encoding.py`). What differs from an image model lives here: the
object-size rescaling (`--diameter`), test-time augmentation of the maps, decoding large planes
block by block while their maps stream in, stitching the planes of a stack into 3D objects,
probability maps as a second output, label images in OME-Zarr, the bf16 check on decoded labels,
and leaving a single plane's watershed to the writer thread. `Predictor(model)` returns a
`Segmenter` for a model whose task is segmentation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from img2img.errors import UserError
from img2img.inference import large_maps, precision as bf16_check
from img2img.inference.object_scale import ObjectScale
from img2img.inference.predictor import Predictor, pixel_source, probe_as_dtype, warn_nonfinite
from img2img.io.axes import canonical_axes, from_planes, guess_axes
from img2img.io.images import Image, is_zarr
from img2img.segmentation.blockwise import BlockDecoder, decoded_in_blocks, smoothing_margin, stack_labels
from img2img.segmentation.encoding import decode_rescaled
from img2img.segmentation.object_size import resize_planes, scaled_shape
from img2img.segmentation.resize_rows import ResizedPlane, resize_bands
from img2img.segmentation.stitching import Stitcher, label_dtype_for, parse_stitch, stitch_axis, volume_planes

BAND_PIXELS = 1 << 22  # TTA maps are handed to the block decoder this many pixels at a time


class Segmenter(Predictor, task="segmentation"):
    """Labels (uint16, uint32 above 65,535 objects) with the input's plane axes.

    diameter: for models trained at an object size: the objects' diameter in pixels, or 'auto'
    (the default) to measure it on each plane; images are rescaled to the trained size.
    tta: average the maps of the 8 flips and quarter turns of each plane (8x the work; see
    docs/real_nuclei.md for what it gains).
    stitch: stacks: 'auto' (Z stacks: ids unique through the stack, objects of neighbouring planes
    joined by overlap; time series: each frame on its own), 'off' (unique ids, no joining) or an
    IoU threshold (see `segmentation/stitching.py`).
    Other options: `Predictor`.
    """

    def __init__(self, model, *, diameter: float | str | None = None, tta: bool = False,
                 stitch: float | str | None = "auto", output_dtype: str = "same", **options):
        super().__init__(model, output_dtype=output_dtype, **options)
        if output_dtype not in ("same", "uint16"):
            raise UserError(f"--output-dtype {output_dtype}: label images are always uint16 (uint32 above 65,535 "
                            "objects); the option is for image outputs")
        self.tta = tta
        self.stitch = parse_stitch(stitch)
        self.object_scale = ObjectScale(self.config.segmentation.object_diameter, diameter)

    def output_axes(self, axes: str) -> str:
        return "".join(a for a in canonical_axes(axes) if a not in "CYX") + "YX"

    def result_dtype(self, input_dtype: np.dtype) -> np.dtype:
        return np.dtype(np.uint16)  # the result itself says uint32 when a plane has more than 65,535 objects

    # --- arrays --------------------------------------------------------------------------
    def _predict(self, image: np.ndarray, axes: str | None, mask: np.ndarray | None = None, into=None,
                 later: bool = False) -> np.ndarray | Callable[[], np.ndarray]:
        """Labels of every plane; the label type follows the object count, known at the end.

        later: for a single plane decoded whole, run the network now and return the decoding
        (watershed) as a function, which `write_outputs` calls in the writer thread while this
        thread runs the next file's network. The watershed and Gaussian release the GIL, so on a
        2-core CPU the two overlap (docs/benchmarks.md). Stacks (stitched plane by plane) and
        planes decoded in blocks get their labels now, as without it."""
        axes = canonical_axes(axes or guess_axes(image.shape, self.in_channels))
        planes, plane_axes = self._planes(image, axes)
        shape, out_axes = self._plane_shape(image, axes, plane_axes), self.output_axes(axes)
        if later and len(planes) == 1 and not decoded_in_blocks(tuple(planes.shape[-2:])):
            maps, scale = self._maps(planes[0])
            decoding = self.config.segmentation.decoding
            return lambda: from_planes(decode_rescaled(maps, decoding, scale)[None], shape, out_axes)
        labels = stack_labels(self._stitcher(plane_axes, shape).stream(self._segment(plane) for plane in planes),
                              (len(planes),) + self._out_size(planes))
        return from_planes(labels, shape, out_axes)

    def _plane_probabilities(self, plane: np.ndarray, out: np.ndarray) -> None:
        """Channel 0: the foreground probability, channel 1: the object-centre map, at the plane's size."""
        if not decoded_in_blocks(plane.shape[-2:]):
            out[:] = self._maps(plane)[0]
            return
        put = large_maps.into(out)
        for row, band in self._map_bands(plane, self._scale(plane)):
            put(row, band)

    # --- one plane -----------------------------------------------------------------------
    def segmentation_maps(self, image: np.ndarray, axes: str | None = None) -> list[tuple[np.ndarray, float]]:
        """Per plane: the network's maps in [0, 1] at the plane's size, and the scale they were
        made at; `segmentation.encoding.decode_rescaled(maps, decoding, scale)` makes labels of
        them. For choosing decoding settings without running the network again for each."""
        image = pixel_source(image)
        planes, _ = self._planes(image, canonical_axes(axes or guess_axes(image.shape, self.in_channels)))
        return [self._maps(plane) for plane in planes]

    def _segment(self, plane: np.ndarray, maps_to: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
        """Instance labels of one (C, H, W) plane at its own size, after rescaling it so that its
        objects have the size the model was trained at (see `ObjectScale`); its maps in [0, 1]
        go to `maps_to(first_row, (C, n, W) band)` if given (whole, or band by band).

        Planes up to `blockwise.WHOLE_PLANE_PIXELS` are decoded whole. Larger ones stream their
        maps band by band into a `BlockDecoder`, so no full-size float maps and no whole-plane
        watershed are held (a 16k x 16k plane in under 3 GB; docs/benchmarks.md).
        """
        decoding = self.config.segmentation.decoding
        if not decoded_in_blocks(plane.shape[-2:]):
            maps, scale = self._maps(plane)
            if maps_to is not None:
                maps_to(0, maps)
            return decode_rescaled(maps, decoding, scale)
        scale = self._scale(plane)
        diameter = self.object_scale.model_diameter
        decoder = BlockDecoder(plane.shape[-2:], lambda maps: decode_rescaled(maps, decoding, scale),
                               margin=smoothing_margin(decoding.smoothing / scale),
                               diameter=diameter / scale if diameter else None)
        for row, band in self._map_bands(plane, scale):
            if maps_to is not None:
                maps_to(row, band)
            decoder.add(row, band)
        return decoder.finish()

    def _maps(self, plane: np.ndarray) -> tuple[np.ndarray, float]:
        scale = self._scale(plane)
        return self._maps_at(plane, scale), scale

    def _scale(self, plane: np.ndarray) -> float:
        def labels_at(crop: np.ndarray, scale: float) -> np.ndarray:
            # The size estimate needs no averaging: it is a median over many objects.
            return decode_rescaled(self._maps_at(crop, scale, tta=False), self.config.segmentation.decoding, scale)

        return self.object_scale.scale(plane, labels_at)

    def _map_bands(self, plane: np.ndarray, scale: float) -> Iterator[tuple[int, np.ndarray]]:
        """`_maps_at(plane, scale)` as (first row, (C, n, W)) bands: the rescaled plane is made
        where tiles read it and its maps are resized back as they come, so neither is held whole.
        TTA's eight passes are averaged over whole planes as before and then cut into bands."""
        if self.tta:
            maps = self._maps_at(plane, scale)
            step = max(1, BAND_PIXELS // maps.shape[-1])
            yield from ((row, maps[:, row : row + step]) for row in range(0, maps.shape[1], step))
            return
        size = tuple(plane.shape[-2:])
        source = plane if scale == 1.0 else ResizedPlane(plane, scaled_shape(size, scale))
        bands = ((row, _to_unit(band)) for row, band in self._blend(source))
        yield from bands if scale == 1.0 else resize_bands(bands, source.shape[-2:], size)

    def _maps_at(self, plane: np.ndarray, scale: float, tta: bool | None = None) -> np.ndarray:
        tta = self.tta if tta is None else tta
        if scale == 1.0:
            return self._averaged_maps(plane, tta)
        size = tuple(plane.shape[-2:])
        return resize_planes(self._averaged_maps(resize_planes(np.asarray(plane), scaled_shape(size, scale)), tta), size)

    def _averaged_maps(self, plane: np.ndarray, tta: bool) -> np.ndarray:
        """`_blend_whole`, or with `tta` the mean over the 8 flips and quarter turns of the plane,
        each turned back (the maps are scalar fields, so they turn with the image)."""
        if not tta:
            return self._blend_whole(plane)
        plane = np.asarray(plane)
        total = np.zeros((self.out_channels,) + plane.shape[-2:], np.float32)
        for turns in range(4):
            for flip in (False, True):
                view = np.rot90(plane, turns, axes=(-2, -1))
                view = view[..., ::-1] if flip else view
                maps = self._blend_whole(np.ascontiguousarray(view))
                maps = maps[..., ::-1] if flip else maps
                total += np.rot90(maps, -turns, axes=(-2, -1))
        return total / 8

    def _bf16_verdict(self, channels: int, blocks_only: bool = False) -> bf16_check.Verdict:
        """Labels of a synthetic nucleus image decoded from float32 and from bf16 maps."""
        side = max(1, 256 // self.multiple) * self.multiple
        image = bf16_check.nucleus_probe(side)
        if self.config.normalization.mode == "dtype" and self.trained_dtypes[0]:
            image = probe_as_dtype(image, np.dtype(self.trained_dtypes[0]))
        plane = np.repeat(image[None].astype(np.float32), self.in_channels, axis=0)  # gray into every channel
        norm = self.config.normalization
        reference, bf16 = self._both_precisions(norm.apply(plane, *norm.range_of(plane))[None].astype(np.float32), blocks_only)
        decoding = self.config.segmentation.decoding
        labels = [decode_rescaled(_to_unit(maps[0].copy()), decoding) for maps in (reference, bf16)]
        return bf16_check.judge_labels(*labels)

    # --- files ---------------------------------------------------------------------------
    def results_for(self, image: Image, destination: Path, probabilities: Path | None = None) -> list[tuple]:
        """The labels (and the maps, float32, if asked), see `Predictor.results_for`. A single plane's
        watershed is left to the writer thread (`_predict(later=True)`)."""
        if probabilities is not None:
            return self._labels_and_maps(image, destination, probabilities)
        warn_nonfinite(image)
        out_axes = self.output_axes(image.axes)
        if is_zarr(destination):
            self._labels_to_store(image, destination, self.output_shape(image.data.shape, image.axes), image.resolution)
            return [(destination, None, out_axes, image.resolution)]
        labels = self._predict(pixel_source(image.data), image.axes, later=True)
        return [(destination, labels, out_axes, image.resolution, "labels")]

    def _labels_and_maps(self, image: Image, destination: Path, probabilities: Path) -> list[tuple]:
        warn_nonfinite(image)
        plane_axes = "".join(a for a in image.axes if a not in "CYX")
        planes, _ = self._planes(pixel_source(image.data), canonical_axes(image.axes))
        shape = self._plane_shape(image.data, canonical_axes(image.axes), plane_axes)
        size, count = tuple(planes.shape[-2:]), (len(planes),)
        stitcher = self._stitcher(plane_axes, shape)
        if decoded_in_blocks(size):  # maps written as they are made (large_maps.py)
            probs = None
            with large_maps.MapsWriter(probabilities, shape + (self.out_channels,) + size, plane_axes + "CYX",
                                       image.resolution) as writer:
                labels = stack_labels(stitcher.stream(self._segment(p, writer.sink(k)) for k, p in enumerate(planes)),
                                      count + size)
        else:
            maps = np.empty(count + (self.out_channels,) + size, np.float32)
            labels = stack_labels(stitcher.stream(self._segment(p, large_maps.into(maps[k])) for k, p in enumerate(planes)),
                                  count + size)
            probs = from_planes(maps, shape, plane_axes + "CYX")
        return [(destination, from_planes(labels, shape, plane_axes + "YX"), plane_axes + "YX", image.resolution, "labels"),
                (probabilities, probs, plane_axes + "CYX", image.resolution)]

    def _labels_to_store(self, image: Image, destination: Path, shape: tuple[int, ...], resolution) -> None:
        """Labels into an OME-Zarr, one plane held at a time (stitched as they come). The store is
        made once the first plane is decoded, in its label type (uint16, or uint32 above 65,535
        objects; for a stack, where ids run through its planes, see `stitching.label_dtype_for`)."""
        from img2img.io import ome_zarr

        axes = canonical_axes(image.axes)
        planes, plane_axes = self._planes(pixel_source(image.data), axes)
        plane_shape = self._plane_shape(image.data, axes, plane_axes)
        stitcher = self._stitcher(plane_axes, plane_shape)
        with contextlib.ExitStack() as stack:
            store = None
            for k, plane in enumerate(planes):
                labels = stitcher.add(k, self._segment(plane))
                if store is None:
                    count = int(labels.max()) if labels.size else 0
                    dtype = max(labels.dtype, label_dtype_for(volume_planes(plane_axes, plane_shape, stitcher.axis), count),
                                key=lambda d: np.dtype(d).itemsize)
                    store = stack.enter_context(ome_zarr.create(destination, shape, dtype, self.output_axes(image.axes),
                                                                resolution, kind="labels"))
                _put_labels(store, k, labels)

    def _stitcher(self, plane_axes: str, plane_shape: tuple[int, ...]) -> Stitcher:
        """Relabels a stack's planes as `self.stitch` asks (Z stacks: 3D objects by default)."""
        axis, threshold = stitch_axis(self.stitch, plane_axes)
        return Stitcher(plane_axes, plane_shape, axis, threshold)


def _to_unit(band: np.ndarray) -> np.ndarray:
    """[-1, 1] -> [0, 1] in place (as `_blend_whole` computes it): a blended band is a fresh array,
    and a 16k-wide one is 60 MB."""
    band += 1.0
    band /= 2.0
    return band


def _put_labels(out, k: int, labels: np.ndarray) -> None:
    """Plane k of a (planes, 1, Y, X) label array or store, refusing labels its type cannot hold."""
    dtype = np.dtype(out.dtype)
    if labels.dtype.itemsize > dtype.itemsize and labels.max() > np.iinfo(dtype).max:
        raise UserError(f"{labels.max()} objects do not fit in this {dtype} label image (its type was set "
                        "before this plane was decoded); write a .tif instead, which can be uint32 throughout")
    out[k, :] = labels[None]
