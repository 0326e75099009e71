"""Torch datasets over pairs held in memory: random augmented patches for training, whole
(centre-cropped, padded) images for validation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from img2img.data.augmentation import PairedAugmentation
from img2img.data.loading import TrainingPair
from img2img.inference.padding import pad_to_multiple


class PatchDataset(Dataset):
    """`patches_per_image` random crops of every pair per epoch."""

    def __init__(self, pairs: list[TrainingPair], augment: PairedAugmentation, patches_per_image: int):
        self.pairs = pairs
        self.augment = augment
        self.patches_per_image = patches_per_image

    def __len__(self) -> int:
        return len(self.pairs) * self.patches_per_image

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        pair = self.pairs[index % len(self.pairs)]
        x, y = self.augment(pair.input, pair.target)
        return {"input": torch.from_numpy(x), "target": torch.from_numpy(y)}


class WholeImageDataset(Dataset):
    """Validation images, centre-cropped to at most `max_size` (to bound CPU time) and
    mirror-padded to the generator's size multiple; `labels` keeps the true instances."""

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
        return {
            "input": torch.from_numpy(np.ascontiguousarray(x)),
            "target": torch.from_numpy(np.ascontiguousarray(y)),
            "labels": torch.from_numpy(pair.labels[crop].astype(np.int64)),
            "size": torch.tensor(size),
        }


def _centre_crop(shape: tuple[int, int], max_size: int) -> tuple[slice, slice]:
    return tuple(slice((n - min(n, max_size)) // 2, (n - min(n, max_size)) // 2 + min(n, max_size)) for n in shape)
