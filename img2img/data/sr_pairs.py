"""Real low-/high-resolution pairs for super-resolution (e.g. a 10x and a 40x acquisition,
registered), matched by name: the high-resolution image must be exactly `scale` times larger.
Crops are taken at the same place in both, `patch_size / scale` low-resolution pixels wide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from img2img.config.schema import TrainConfig
from img2img.data.datamodule import split_pairs
from img2img.data.geometry import orient, pad_at_least, random_orientation
from img2img.data.loading import TrainingPair, check_consistent, check_targets, read_input_2d
from img2img.data.pairing import pair_files
from img2img.data.sampling import steps_done
from img2img.data.single import VAL_MAX_SIZE, _collate_one, sample_rng, seeded_loader
from img2img.errors import UserError


def load_sr_pair(lr_path: Path, hr_path: Path, config: TrainConfig) -> TrainingPair:
    scale = config.model.scale
    lr, dtype = read_input_2d(lr_path)
    hr, hr_dtype = read_input_2d(hr_path)
    if hr.shape[1:] != (lr.shape[1] * scale, lr.shape[2] * scale):
        raise UserError(
            f"{hr_path}: is {hr.shape[1]}x{hr.shape[2]} but its input {lr_path.name} is {lr.shape[1]}x{lr.shape[2]}; "
            f"with model.scale {scale} it must be {lr.shape[1] * scale}x{lr.shape[2] * scale} (crop or resample the pair)"
        )
    return TrainingPair(lr_path.stem, config.normalization.normalize(lr), config.target_norm.normalize(hr), None, dtype, hr_dtype)


class SRPairDataModule(pl.LightningDataModule):
    splits_over_ranks = True  # its sampler gives each DDP rank its share (sampling.py)

    def __init__(self, config: TrainConfig, size_multiple: int = 1, progress: bool = True):
        super().__init__()
        self.config = config
        data = config.data
        files = pair_files(data.input_dir, data.target_dir, data.pattern)
        if data.val_input_dir is not None:
            train, val = files, pair_files(data.val_input_dir, data.val_target_dir, data.pattern)
        else:
            train, val = split_pairs(files, data.val_fraction, config.seed)
        self.train_pairs = [load_sr_pair(x, y, config) for x, y in train]
        self.val_pairs = [load_sr_pair(x, y, config) for x, y in val]
        pairs, paths = self.train_pairs + self.val_pairs, train + val
        self.in_channels, self.input_dtype = check_consistent(pairs, [x for x, _ in paths])
        self.out_channels, self.target_dtype = check_targets(pairs, [y for _, y in paths])

    def train_dataloader(self) -> DataLoader:
        data, aug = self.config.data, self.config.augmentation
        dataset = AlignedPatchDataset(self.train_pairs, data.patch_size, self.config.model.scale, data.patches_per_image,
                                      aug.flip, aug.rotate90)
        return seeded_loader(dataset, self.config, lambda: steps_done(self.trainer))

    def val_dataloader(self) -> DataLoader:
        scale = self.config.model.scale
        examples = []
        for pair in self.val_pairs:
            (top, left), n = _centre(pair.input.shape[1:], VAL_MAX_SIZE // scale)
            lr = pair.input[:, top : top + n[0], left : left + n[1]]
            hr = pair.target[:, top * scale : (top + n[0]) * scale, left * scale : (left + n[1]) * scale]
            examples.append({"input": torch.from_numpy(np.ascontiguousarray(lr)),
                             "target": torch.from_numpy(np.ascontiguousarray(hr)), "size": torch.tensor(lr.shape[1:])})
        return DataLoader(examples, batch_size=1, num_workers=0, collate_fn=_collate_one)


class AlignedPatchDataset(Dataset):
    """Random crops at the same place of the low- and high-resolution images, oriented alike."""

    def __init__(self, pairs: list[TrainingPair], patch_size: int, scale: int, patches_per_image: int,
                 flip: bool = True, rotate90: bool = True):
        self.pairs, self.lr_size, self.scale = pairs, patch_size // scale, scale
        self.patches_per_image, self.flip, self.rotate90 = patches_per_image, flip, rotate90

    def __len__(self) -> int:
        return len(self.pairs) * self.patches_per_image

    def __getitem__(self, index: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, rng = sample_rng(index)
        pair, n, s = self.pairs[index % len(self.pairs)], self.lr_size, self.scale
        lr, hr = pad_at_least(pair.input, n), pad_at_least(pair.target, n * s)
        top, left = int(rng.integers(0, lr.shape[1] - n + 1)), int(rng.integers(0, lr.shape[2] - n + 1))
        orientation = random_orientation(rng, self.flip, self.rotate90)
        lr = orient(lr[:, top : top + n, left : left + n], orientation)
        hr = orient(hr[:, top * s : (top + n) * s, left * s : (left + n) * s], orientation)
        return {"input": torch.from_numpy(lr), "target": torch.from_numpy(hr)}


def _centre(shape: tuple[int, int], size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    n = tuple(min(s, size) for s in shape)
    return tuple((s - k) // 2 for s, k in zip(shape, n)), n
