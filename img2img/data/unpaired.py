"""Unpaired data (CycleGAN): two folders A and B, each loaded once and sampled on its own.

An epoch is as long as the larger folder's patches (`patches_per_image` per image, rounded up to
whole batches). The smaller
folder is drawn in fresh random permutations, repeated as often as needed, so every image of
both folders is seen each epoch and none is silently dropped, unlike zipping two loaders (which
stops at the shorter one). Validation runs whole images of each domain.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from rich.progress import track
from torch.utils.data import DataLoader, Dataset

from img2img.config.schema import TrainConfig, UnpairedDataConfig
from img2img.data.augmentation import PairedAugmentation
from img2img.data.datasets import WholeImageDataset
from img2img.data.loading import TrainingPair, check_consistent, read_input_2d
from img2img.data.sampling import StepSampler, balanced_order, loader_generator, steps_done
from img2img.errors import UserError
from img2img.io.images import list_images
from img2img.io.normalization import Normalization


def load_domain(folder: Path, pattern: str, normalization: Normalization, patch_size: int | None,
                at_least: int = 2, progress: bool = False) -> tuple[list[TrainingPair], list[Path]]:
    """Every image of `folder`, normalized; as TrainingPairs whose target is the image itself,
    so the whole-image validation dataset serves unpaired data unchanged."""
    files = list_images(folder, pattern)
    if len(files) < at_least:
        found = "no images" if not files else "only one image"
        raise UserError(f"{folder}: {found} matching '{pattern}' (.tif, .tiff, .png, .jpg); unpaired training needs at least {at_least}")
    images = []
    for path in track(files, description=f"loading {folder}", transient=True) if progress else files:
        raw, dtype = read_input_2d(path)
        if patch_size is not None and min(raw.shape[1:]) < patch_size:
            raise UserError(
                f"{path}: {raw.shape[1]}x{raw.shape[2]} px is smaller than data.patch_size {patch_size}; "
                "lower data.patch_size or remove the image"
            )
        x = normalization.normalize(raw)
        images.append(TrainingPair(path.stem, x, x, None, dtype, dtype))
    check_consistent(images, files)
    return images, files


class UnpairedSampler(StepSampler):
    """Yields (index into A, index into B, seed) items, each domain independently shuffled anew
    every epoch (from the run's seed and the epoch, see `sampling.py`, so resumes repeat exactly).

    The length is rounded up to whole batches (with a few random repeats), so no partial last
    batch has to be dropped, and with it images."""

    def __init__(self, n_a: int, n_b: int, patches_per_image: int, batch_size: int = 1, seed: int = 0,
                 steps_done: Callable[[], int] | None = None):
        super().__init__(max(n_a, n_b) * patches_per_image, batch_size, seed, steps_done)
        self.n_a, self.n_b = n_a, n_b

    def epoch_items(self, rng: np.random.Generator, length: int) -> list[tuple[int, int, int]]:
        a = balanced_order(self.n_a, length, rng)
        b = balanced_order(self.n_b, length, rng)
        seeds = rng.integers(0, 2**62, length)
        return list(zip(a.tolist(), b.tolist(), seeds.tolist()))


class UnpairedPatchDataset(Dataset):
    """Item (i, j): an augmented patch of A image i and one of B image j (augmented separately)."""

    def __init__(self, a: list[TrainingPair], b: list[TrainingPair], augment: PairedAugmentation):
        self.a, self.b, self.augment = a, b, augment

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, index: tuple[int, ...]) -> dict[str, torch.Tensor]:
        i, j, *seed = index
        self.augment.reseed(seed[0] if seed else None)
        return {
            "a": torch.from_numpy(self.augment.single(self.a[i].input)),
            "b": torch.from_numpy(self.augment.single(self.b[j].input)),
            "a_index": torch.tensor(i), "b_index": torch.tensor(j),
        }


class UnpairedDataModule(pl.LightningDataModule):
    """in/out channels and pixel types are those of A and B (the A->B generator's input and output)."""
    splits_over_ranks = True  # its sampler gives each DDP rank its share (sampling.py)


    def __init__(self, config: TrainConfig, size_multiple: int, progress: bool = True):
        super().__init__()
        data = config.data
        if not isinstance(data, UnpairedDataConfig):
            raise UserError(f"model {config.model.name} trains on two unmatched folders: give data.a_dir and data.b_dir")
        self.config = config
        self.size_multiple = size_multiple
        norm = config.normalization
        self.a, files_a = load_domain(data.a_dir, data.pattern, norm, data.patch_size, progress=progress)
        self.b, files_b = load_domain(data.b_dir, data.pattern, norm, data.patch_size, progress=progress)
        if data.val_a_dir is not None:
            self.val_a, val_files_a = load_domain(data.val_a_dir, data.pattern, norm, None, at_least=1)
            self.val_b, val_files_b = load_domain(data.val_b_dir, data.pattern, norm, None, at_least=1)
        else:  # no ground truth to overfit to: a few training images show how the cycle holds up
            self.val_a, val_files_a = _some(self.a, files_a, data.val_images, config.seed)
            self.val_b, val_files_b = _some(self.b, files_b, data.val_images, config.seed)
        self.in_channels, self.input_dtype = check_consistent(self.a + self.val_a, files_a + val_files_a)
        self.out_channels, self.target_dtype = check_consistent(self.b + self.val_b, files_b + val_files_b)

    def train_dataloader(self) -> DataLoader:
        data = self.config.data
        dataset = UnpairedPatchDataset(self.a, self.b, PairedAugmentation(self.config.augmentation, data.patch_size))
        sampler = UnpairedSampler(len(self.a), len(self.b), data.patches_per_image, data.batch_size,
                                  self.config.seed, steps_done=lambda: steps_done(self.trainer))
        return DataLoader(
            dataset, batch_size=data.batch_size, sampler=sampler,
            num_workers=data.num_workers, persistent_workers=data.num_workers > 0,
            generator=loader_generator(self.config.seed),
        )

    def val_dataloader(self) -> list[DataLoader]:
        """Loader 0: whole A images; loader 1: whole B images (one per batch, sizes differ)."""
        return [DataLoader(WholeImageDataset(images, self.size_multiple), batch_size=1, num_workers=0,
                           generator=loader_generator(self.config.seed))  # validating draws nothing from global RNGs
                for images in (self.val_a, self.val_b)]


def _some(images: list[TrainingPair], files: list[Path], n: int, seed: int) -> tuple[list[TrainingPair], list[Path]]:
    picked = sorted(np.random.default_rng(seed).permutation(len(images))[:n].tolist())
    return [images[k] for k in picked], [files[k] for k in picked]
