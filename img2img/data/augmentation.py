"""Paired augmentation with albumentations: geometry on input and target, intensity on the input only."""

from __future__ import annotations

import math
import random

import albumentations as A
import cv2
import numpy as np

from img2img.config.schema import AugmentationConfig


class PairedAugmentation:
    """Random crop (with reflect padding for small images), optional zoom, flips and 90-degree
    turns applied identically to both; brightness/contrast/gamma/blur/noise to the input alone.

    albumentations' intensity transforms expect float images in [0, 1] and clip to it; our
    inputs are normalized to about [-1, 1] with tails beyond it. Each patch's own range is
    therefore mapped onto [0.25, 0.75] and back, leaving headroom for the configured changes,
    so the tails keep their order instead of saturating.
    """

    def __init__(self, config: AugmentationConfig, patch_size: int):
        # With zoom, a larger crop is cut first so that zooming out still fills the patch.
        self.crop_size = math.ceil(patch_size / (1.0 - config.scale)) if config.scale > 0 else patch_size
        geometry = [
            A.PadIfNeeded(self.crop_size, self.crop_size, border_mode=cv2.BORDER_REFLECT_101),
            A.RandomCrop(self.crop_size, self.crop_size),
        ]
        if config.scale > 0:
            # Targets are encodings (segmentation maps, images), so they are interpolated like images.
            geometry += [
                A.Affine(scale=(1.0 - config.scale, 1.0 + config.scale), keep_ratio=True, interpolation=cv2.INTER_LINEAR,
                         mask_interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
                A.CenterCrop(patch_size, patch_size),
            ]
        if config.flip:
            geometry += [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)]
        if config.rotate90:
            geometry.append(A.RandomRotate90(p=0.5))
        self.geometry = A.Compose(geometry)
        intensity = []
        if config.brightness_contrast > 0:
            amount = config.brightness_contrast
            intensity.append(A.RandomBrightnessContrast(amount, amount, p=0.5))
        if config.gamma > 0:
            intensity.append(A.RandomGamma((100 * (1 - config.gamma), 100 * (1 + config.gamma)), p=0.5))
        if config.blur > 0:
            intensity.append(A.GaussianBlur(blur_limit=(3, 5), p=config.blur))
        if config.noise > 0:
            intensity.append(A.GaussNoise(std_range=(0.01, 0.05), p=config.noise))
        self.intensity = A.Compose(intensity) if intensity else None

    def reseed(self, seed: int | None) -> None:
        """Draw the next sample's changes from `seed` (None: fresh entropy), so that a sample is a
        function of its seed (exact resume, any number of workers). One shared generator for all
        transforms: seeding each alike would make, e.g., both flips always agree."""
        for compose in (self.geometry, self.intensity):
            if compose is not None:
                compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
                seed = None if seed is None else seed + 1

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C, H, W) input and target -> augmented (C, P, P) patches."""
        out = self.geometry(image=np.ascontiguousarray(x.transpose(1, 2, 0)), mask=np.ascontiguousarray(y.transpose(1, 2, 0)))
        return _chw(self._intensity(out["image"])), _chw(out["mask"])

    def single(self, x: np.ndarray) -> np.ndarray:
        """One (C, H, W) image without a target (unpaired data) -> an augmented (C, P, P) patch."""
        out = self.geometry(image=np.ascontiguousarray(x.transpose(1, 2, 0)))
        return _chw(self._intensity(out["image"]))

    def _intensity(self, image: np.ndarray) -> np.ndarray:
        if self.intensity is None:
            return image
        lo, hi = float(image.min()), float(image.max())
        span = max(hi - lo, 1e-6)
        unit = self.intensity(image=(0.25 + 0.5 * (image - lo) / span).astype(np.float32))["image"]
        return (unit.reshape(image.shape) - 0.25) / 0.5 * span + lo


def _chw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray((a if a.ndim == 3 else a[..., None]).transpose(2, 0, 1), dtype=np.float32)
