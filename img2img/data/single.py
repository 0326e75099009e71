"""Training from one folder of clean images: each random crop becomes a (made input, clean
target) example on the fly, by the model's own recipe (`examples.py`), so every epoch sees new
degradations; validation examples are made once with fixed seeds, so scores compare over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from rich.progress import track
from torch.utils.data import DataLoader, Dataset

from img2img.config.schema import TrainConfig
from img2img.data.examples import ExampleMaker, example_maker
from img2img.data.geometry import centre_crop, orient, random_crop, random_orientation
from img2img.data.loading import TrainingPair, check_consistent, read_input_2d
from img2img.data.sampling import PairedSampler, loader_generator, steps_done
from img2img.data.range_check import check_fixed_range
from img2img.errors import UserError
from img2img.io.images import list_images
from img2img.nets.padding import pad_to_multiple

VAL_MAX_SIZE = 512  # validation crops of the clean image, to bound CPU time


class SingleFolderDataModule(pl.LightningDataModule):
    splits_over_ranks = True  # its sampler gives each DDP rank its share (sampling.py)

    def __init__(self, config: TrainConfig, size_multiple: int, progress: bool = True):
        super().__init__()
        self.config = config
        self.size_multiple = size_multiple
        data = config.data
        files = _images(data.image_dir, data.pattern)
        if data.val_image_dir is not None:
            self.train_files, self.val_files = files, _images(data.val_image_dir, data.pattern)
        else:
            self.train_files, self.val_files = split_files(files, data.val_fraction, config.seed)
        self.train_images = self._load(self.train_files, "training", progress)
        self.val_images = self._load(self.val_files, "validation", progress)
        channels, dtype = check_consistent(self.train_images + self.val_images, self.train_files + self.val_files)
        check_fixed_range(config.target_norm, [p.target for p in self.train_images], data.image_dir)
        self.maker = example_maker(config)
        self.maker.check_channels(channels, self.train_files[0])
        self.in_channels, self.out_channels = self.maker.channels(channels)
        self.input_dtype = self.target_dtype = dtype

    def _load(self, files: list[Path], what: str, progress: bool) -> list[TrainingPair]:
        items = track(files, description=f"loading {what} images", transient=True) if progress else files
        norm = self.config.target_norm
        loaded = []
        for path in items:
            raw, dtype = read_input_2d(path)
            image = norm.normalize(raw)
            loaded.append(TrainingPair(path.stem, image, image, None, dtype, dtype))
        return loaded

    def train_dataloader(self) -> DataLoader:
        data = self.config.data
        dataset = CleanPatchDataset([p.target for p in self.train_images], self.maker, data.patch_size,
                                    data.patches_per_image, self.config.augmentation.flip, self.config.augmentation.rotate90)
        return seeded_loader(dataset, self.config, lambda: steps_done(self.trainer))

    def val_dataloader(self) -> DataLoader:
        examples = [self.validation_example(p.target, i) for i, p in enumerate(self.val_images)]
        return DataLoader(examples, batch_size=1, num_workers=0, collate_fn=_collate_one)

    def validation_example(self, clean: np.ndarray, index: int) -> dict[str, torch.Tensor]:
        """A fixed example (seeded by its index) of a centre crop trimmed to whole input pixels."""
        clean = centre_crop(clean, VAL_MAX_SIZE, self.maker.scale * self.size_multiple)
        example = self.maker.make(np.ascontiguousarray(clean), np.random.default_rng([self.config.seed, index]))
        return padded_example(example, self.size_multiple, self.maker.scale)


class CleanPatchDataset(Dataset):
    """`patches_per_image` random, randomly oriented crops of every clean image per epoch."""

    def __init__(self, images: list[np.ndarray], maker: ExampleMaker, patch_size: int, patches_per_image: int,
                 flip: bool = True, rotate90: bool = True):
        self.images, self.maker, self.patch_size = images, maker, patch_size
        self.patches_per_image, self.flip, self.rotate90 = patches_per_image, flip, rotate90

    def __len__(self) -> int:
        return len(self.images) * self.patches_per_image

    def __getitem__(self, index: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, rng = sample_rng(index)
        crop = random_crop(self.images[index % len(self.images)], self.patch_size, rng)
        crop = orient(crop, random_orientation(rng, self.flip, self.rotate90))
        return {k: torch.from_numpy(v) for k, v in self.maker.make(crop, rng).items()}


def padded_example(example: dict[str, np.ndarray], multiple: int, scale: int = 1) -> dict[str, torch.Tensor]:
    """Mirror-pad every array to the network's size multiple; `size` is the input's true size
    (targets are `scale` times larger, padded by `scale` times as much)."""
    out = {}
    size = example["input"].shape[1:]
    for key, value in example.items():
        factor = 1 if key == "input" or value.shape[1:] == size else scale
        out[key] = torch.from_numpy(np.ascontiguousarray(pad_to_multiple(value, multiple * factor)[0]))
    out["size"] = torch.tensor(size)
    return out


def split_files(files: list[Path], val_fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """A seeded random split; validation gets at least one image whenever there are two or more."""
    if len(files) < 2:
        raise UserError(f"{files[0].parent}: only one image; training needs at least two (one is held out for validation)")
    order = np.random.default_rng(seed).permutation(len(files))
    n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
    return [files[i] for i in sorted(order[n_val:])], [files[i] for i in sorted(order[:n_val])]


def _images(folder: Path, pattern: str) -> list[Path]:
    files = list_images(folder, pattern)
    if not files:
        raise UserError(f"{folder}: no images matching '{pattern}' (.tif, .tiff, .png, .jpg); check data.image_dir")
    return files


def seeded_loader(dataset: Dataset, config: TrainConfig, done) -> DataLoader:
    """Training batches as a function of (seed, step), as for pairs (sampling.py): resumes repeat
    exactly, and each DDP rank takes its share."""
    data = config.data
    sampler = PairedSampler(len(dataset), data.batch_size, config.seed, done)
    return DataLoader(dataset, batch_size=data.batch_size, sampler=sampler, num_workers=data.num_workers,
                      persistent_workers=data.num_workers > 0, generator=loader_generator(config.seed))


def sample_rng(index: int | tuple[int, int]) -> tuple[int, np.random.Generator]:
    """`index`, or (index, seed) from `PairedSampler`: the example's randomness follows the seed."""
    if isinstance(index, tuple):
        return index[0], np.random.default_rng(index[1])
    return index, np.random.default_rng(np.random.randint(2**31))


def _collate_one(items: list[dict]) -> dict[str, torch.Tensor]:
    return {k: v[None] for k, v in items[0].items()}

