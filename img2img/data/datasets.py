"""Torch datasets over pairs held in memory: random augmented patches for training, whole
(centre-cropped, padded) images for validation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from img2img.data.augmentation import PairedAugmentation
from img2img.data.loading import TrainingPair
from img2img.nets.padding import pad_to_multiple


class PatchDataset(Dataset):
    """`patches_per_image` random crops of every pair per epoch.

    A share `foreground_crops` of them is centred on a random object pixel: where objects cover
    a few percent of the image (dolphins at sea), uniform crops teach the generator that
    "all background" is a good answer. Translation pairs have no objects: all crops are uniform.
    """

    def __init__(self, pairs: list[TrainingPair], augment: PairedAugmentation, patches_per_image: int,
                 patch_size: int, foreground_crops: float = 0.0):
        self.pairs = pairs
        self.augment = augment
        self.patches_per_image = patches_per_image
        self.patch_size = patch_size
        self.foreground_crops = foreground_crops
        self.object_pixels = [_sample_object_pixels(p.labels) for p in pairs]  # empty without labels

    def __len__(self) -> int:
        return len(self.pairs) * self.patches_per_image

    def __getitem__(self, index: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        """`index`, or (index, seed) from `PairedSampler`: then the crop and augmentation follow the seed."""
        index, seed = index if isinstance(index, tuple) else (index, None)
        rng = np.random.default_rng(seed)
        self.augment.reseed(None if seed is None else int(rng.integers(2**62)))
        i = index % len(self.pairs)
        x, y = self.pairs[i].input, self.pairs[i].target
        objects = self.object_pixels[i]
        if len(objects) and rng.random() < self.foreground_crops:
            window = _window_around(objects[rng.integers(len(objects))], x.shape[1:], self.augment.crop_size)
            x, y = x[(slice(None), *window)], y[(slice(None), *window)]
        x, y = self.augment(x, y)
        return {"input": torch.from_numpy(x), "target": torch.from_numpy(y)}


class WholeImageDataset(Dataset):
    """Validation images, centre-cropped to at most `max_size` (to bound CPU time) and
    mirror-padded to the generator's size multiple; `labels` keeps the true instances (segmentation)."""

    def __init__(self, pairs: list[TrainingPair], size_multiple: int, max_size: int = 512):
        self.pairs = pairs
        self.size_multiple = size_multiple
        self.max_size = max_size

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        pair = self.pairs[index]
        crop = _centre_crop(pair.input.shape[1:], self.max_size)
        x, size = pad_to_multiple(pair.input[(slice(None), *crop)], self.size_multiple)
        y, _ = pad_to_multiple(pair.target[(slice(None), *crop)], self.size_multiple)
        item = {
            "input": torch.from_numpy(np.ascontiguousarray(x)),
            "target": torch.from_numpy(np.ascontiguousarray(y)),
            "size": torch.tensor(size),
        }
        if pair.labels is not None:
            item["labels"] = torch.from_numpy(pair.labels[crop].astype(np.int64))
        return item


def _sample_object_pixels(labels: np.ndarray | None, at_most: int = 4096) -> np.ndarray:
    """Up to `at_most` (row, col) coordinates of object pixels, enough to pick crop centres from."""
    if labels is None:
        return np.empty((0, 2), dtype=np.int64)
    points = np.argwhere(labels > 0)
    if len(points) > at_most:
        points = points[np.random.default_rng(0).choice(len(points), at_most, replace=False)]
    return points


def _window_around(centre: np.ndarray, shape: tuple[int, int], size: int) -> tuple[slice, slice]:
    """A size x size window containing `centre`, shifted to stay inside the image."""
    starts = [int(np.clip(c - size // 2, 0, max(0, n - size))) for c, n in zip(centre, shape)]
    return tuple(slice(s, s + size) for s in starts)


def _centre_crop(shape: tuple[int, int], max_size: int) -> tuple[slice, slice]:
    return tuple(slice((n - min(n, max_size)) // 2, (n - min(n, max_size)) // 2 + min(n, max_size)) for n in shape)
