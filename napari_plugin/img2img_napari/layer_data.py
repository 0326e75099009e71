"""Between napari layers and the arrays `Predictor` reads and writes.

napari keeps RGB(A) channels last (`layer.rgb`) and stacks as leading axes; the Predictor wants
named axes. Leading axes are treated as planes (Z, or T and Z), each segmented on its own.
Results keep the input's scale and translate, so they sit exactly on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLANE_LETTERS = "TZ"  # names for up to two leading axes; 2D models treat them alike


def layer_axes(layer) -> str:
    """Axes of a napari image layer's data, e.g. 'YX', 'ZYX', 'YXC' (RGB) or 'TZYX'."""
    data_ndim = np.ndim(layer.data) if not hasattr(layer.data, "ndim") else layer.data.ndim
    spatial = "YXC" if getattr(layer, "rgb", False) else "YX"
    leading = data_ndim - len(spatial)
    if leading > len(PLANE_LETTERS):
        raise ValueError(
            f"layer '{layer.name}' has {data_ndim} axes; img2img handles up to two stack axes (time, z) before Y and X"
        )
    return PLANE_LETTERS[len(PLANE_LETTERS) - leading:] + spatial


@dataclass
class LayerInput:
    """The pixels to process and where they sit in the layer."""

    data: np.ndarray
    axes: str
    start: tuple[int, ...]  # index of the first processed plane along each leading axis


def layer_input(layer, current_step: tuple[int, ...] | None = None) -> LayerInput:
    """The whole layer, or (with `current_step`, the viewer's dims position) only the plane shown.

    A single plane keeps its leading axes with length one, so the result can be placed back on
    that plane of the stack instead of showing on every plane."""
    axes = layer_axes(layer)
    leading = len(axes) - len(axes.lstrip(PLANE_LETTERS))
    if current_step is None or leading == 0:
        return LayerInput(np.asarray(layer.data), axes, (0,) * leading)
    # The viewer's step covers all dims of the world; the layer's leading axes are its last ones
    # before Y and X (layers of fewer dims are aligned to the right).
    ndim = layer.ndim
    step = tuple(current_step[-ndim:])[:leading]
    step = tuple(int(np.clip(s, 0, n - 1)) for s, n in zip(step, layer.data.shape[:leading]))
    index = tuple(slice(s, s + 1) for s in step)
    return LayerInput(np.asarray(layer.data[index]), axes, step)


def placement(layer, given: LayerInput, scale_factor: int = 1) -> dict:
    """scale and translate of a result: the input's, moved to the processed plane and, for a
    super-resolved result, with pixels `scale_factor` times smaller centred on the input's."""
    scale = np.asarray(layer.scale, dtype=float)
    translate = np.asarray(layer.translate, dtype=float).copy()
    leading = len(given.start)
    translate[:leading] += np.asarray(given.start) * scale[:leading]
    if scale_factor != 1:
        translate[-2:] += scale[-2:] * (0.5 / scale_factor - 0.5)
        scale = scale.copy()
        scale[-2:] /= scale_factor
    return {"scale": tuple(scale), "translate": tuple(translate)}


def image_result_layers(result: np.ndarray, axes: str, name: str, place: dict) -> list[tuple]:
    """LayerData tuples for an image result: RGB(A) shown as colour, other channel counts as one
    layer per channel, single-channel as one grey layer."""
    if "C" not in axes:
        return [(result, {"name": name, **place}, "image")]
    c = axes.index("C")
    n = result.shape[c]
    if n in (3, 4):
        return [(np.moveaxis(result, c, -1), {"name": name, "rgb": True, **place}, "image")]
    return [
        (np.take(result, k, axis=c), {"name": f"{name}_c{k}", "blending": "additive", **place}, "image")
        for k in range(n)
    ]


def hole_mask(mask_layer, given: LayerInput, layer_shape: tuple[int, ...]) -> np.ndarray:
    """Where an inpainting model fills, from a Labels or Shapes layer (nonzero / inside = fill):
    one (Y, X) mask for every plane, or a mask per plane with the processed planes' leading axes.

    `layer_shape` is the image layer's full shape without channels (to draw shapes of a stack)."""
    leading = len(given.start)
    yx = tuple(layer_shape[leading : leading + 2])
    if mask_layer._type_string == "shapes":
        data = mask_layer.to_labels(labels_shape=yx if mask_layer.ndim == 2 else tuple(layer_shape))
    else:
        data = np.asarray(mask_layer.data)
    processed = given.data.shape[:leading]
    if data.ndim > 2 and data.shape[:-2] != processed and data.shape[:-2] == tuple(layer_shape[:leading]):
        data = data[tuple(slice(s, s + n) for s, n in zip(given.start, processed))]  # the processed planes only
    if data.shape[-2:] != yx or (data.ndim > 2 and data.shape[:-2] != processed):
        raise ValueError(
            f"mask layer '{mask_layer.name}' is {'x'.join(map(str, data.shape))} but the image is "
            f"{'x'.join(map(str, layer_shape))}; draw the mask on the image's pixels"
        )
    return data != 0
