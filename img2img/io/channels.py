"""Making any image's channels into the ones a model reads, so users need not choose them.

A model trained with `input_channels: rgb` (the built-in nuclei segmenter) reads three
channels: a gray image is copied into all three, RGBA loses its alpha (a PNG export artefact,
not a stain), and a two-channel image is averaged to gray first. `gray` reads one channel:
the luminance of colour images, the mean of other multi-channel ones. `as_stored` changes
nothing: the image must already have the model's channel count (or `--channels` picks them).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from img2img.errors import UserError

InputChannels = Literal["as_stored", "gray", "rgb"]
CHANNELS_READ = {"gray": 1, "rgb": 3}
# ITU-R BT.601 luma, what OpenCV and scikit-image use for colour -> gray.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def adapt_channels(planes: np.ndarray, mode: InputChannels) -> np.ndarray:
    """(..., C, H, W) pixels -> the channels `mode` reads; integer types stay integer where no
    arithmetic is needed (copying or dropping channels), else float32."""
    if mode == "as_stored":
        return planes
    if mode not in CHANNELS_READ:
        raise UserError(f"input_channels {mode!r}: use as_stored, gray or rgb")
    n = planes.shape[-3]
    if n == 4:  # RGBA: the alpha channel is opacity, not signal
        planes, n = planes[..., :3, :, :], 3
    if mode == "rgb":
        if n == 3:
            return planes
        gray = planes if n == 1 else planes.mean(axis=-3, keepdims=True, dtype=np.float32)
        return np.repeat(gray, 3, axis=-3)
    if n == 1:
        return planes
    if n == 3:
        return np.einsum("c,...chw->...hw", _LUMA, planes.astype(np.float32))[..., None, :, :]
    return planes.mean(axis=-3, keepdims=True, dtype=np.float32)
