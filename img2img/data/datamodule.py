"""The Lightning data module for paired training: pairs files, loads them once, splits off
validation, and serves patches."""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
from rich.progress import track
from torch.utils.data import DataLoader

from img2img.config.schema import TrainConfig
from img2img.data.augmentation import PairedAugmentation
from img2img.data.datasets import PatchDataset, WholeImageDataset
from img2img.data.loading import TrainingPair, check_consistent, check_targets, load_pair
from img2img.data.pairing import pair_files
from img2img.data.sampling import PairedSampler, loader_generator, steps_done
from img2img.errors import UserError


class PairedDataModule(pl.LightningDataModule):
    splits_over_ranks = True  # its sampler gives each DDP rank its share (sampling.py)

    def __init__(self, config: TrainConfig, size_multiple: int, progress: bool = True):
        super().__init__()
        self.config = config
        self.size_multiple = size_multiple
        data = config.data
        self.train_files = pair_files(data.input_dir, data.target_dir, data.pattern)
        if data.val_input_dir is not None:
            self.val_files = pair_files(data.val_input_dir, data.val_target_dir, data.pattern)
        else:
            self.train_files, self.val_files = split_pairs(self.train_files, data.val_fraction, config.seed)
        self.train_pairs = self._load(self.train_files, "training", progress)
        for pair, (path, _) in zip(self.train_pairs, self.train_files):
            if min(pair.input.shape[1:]) < data.patch_size:
                raise UserError(
                    f"{path}: {pair.input.shape[1]}x{pair.input.shape[2]} px is smaller than data.patch_size "
                    f"{data.patch_size}; lower data.patch_size or remove the image"
                )
        self.val_pairs = self._load(self.val_files, "validation", progress)
        self.in_channels, self.input_dtype = check_consistent(
            self.train_pairs + self.val_pairs, [f for f, _ in self.train_files + self.val_files]
        )
        self.out_channels, self.target_dtype = check_targets(
            self.train_pairs + self.val_pairs, [t for _, t in self.train_files + self.val_files]
        )

    def _load(self, files, what: str, progress: bool) -> list[TrainingPair]:
        items = track(files, description=f"loading {what} pairs", transient=True) if progress else files
        return [load_pair(x, y, self.config) for x, y in items]

    def train_dataloader(self) -> DataLoader:
        data = self.config.data
        augment = PairedAugmentation(self.config.augmentation, data.patch_size)
        dataset = PatchDataset(self.train_pairs, augment, data.patches_per_image, data.patch_size, data.foreground_crops)
        # Seeded per epoch and sample (sampling.py): resumes repeat exactly; no image is dropped
        # with a partial last batch (a few random repeats fill it).
        sampler = PairedSampler(len(dataset), data.batch_size, self.config.seed, lambda: steps_done(self.trainer))
        return DataLoader(
            dataset, batch_size=data.batch_size, sampler=sampler,
            num_workers=data.num_workers, persistent_workers=data.num_workers > 0,
            generator=loader_generator(self.config.seed),
        )

    def val_dataloader(self) -> DataLoader:
        # Whole images differ in size, so one per batch.
        return DataLoader(WholeImageDataset(self.val_pairs, self.size_multiple), batch_size=1, num_workers=0,
                          generator=loader_generator(self.config.seed))  # validating draws nothing from global RNGs


def split_pairs(pairs: list, val_fraction: float, seed: int) -> tuple[list, list]:
    """A seeded random split; validation gets at least one pair whenever there are two or more."""
    if len(pairs) < 2:
        raise UserError(
            f"{pairs[0][0].parent}: only one image pair; training needs at least two (one is held out for validation)"
        )
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = min(len(pairs) - 1, max(1, round(val_fraction * len(pairs))))
    val = sorted(order[:n_val].tolist())
    train = sorted(order[n_val:].tolist())
    return [pairs[i] for i in train], [pairs[i] for i in val]
