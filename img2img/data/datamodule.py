"""The Lightning data module for paired training: pairs files, loads them once, splits off
validation, and serves patches.

Validation is, in order: the folders `data.val_input_dir`/`val_target_dir`; a share
`data.val_fraction` of whole images; or, for a single image or `val_fraction: 0`, one corner
piece of each image held back from training (pieces.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytorch_lightning as pl
from rich.progress import track
from torch.utils.data import DataLoader

from img2img.config.schema import TrainConfig
from img2img.data.augmentation import PairedAugmentation
from img2img.data.datasets import PatchDataset, WholeImageDataset
from img2img.data.loading import TrainingPair, check_consistent, check_targets, load_pair
from img2img.data.pairing import pair_files
from img2img.data.pieces import hold_back_piece
from img2img.data.sampling import PairedSampler, loader_generator, steps_done
from img2img.data.range_check import check_fixed_range
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
        elif len(self.train_files) > 1 and data.val_fraction > 0:
            self.train_files, self.val_files = split_pairs(self.train_files, data.val_fraction, config.seed)
        else:
            self.val_files = []  # pieces are held back after loading (a rescaled image may shrink)
        # Whether validation is of whole image files (not pieces held back from training images).
        self.whole_image_validation = bool(self.val_files)
        self.train_pairs = self._load(self.train_files, "training", progress)
        # Images rescaled to an object size may end up small: their crops are mirror-padded.
        rescaled = config.task == "segmentation" and config.segmentation.object_diameter is not None
        for pair, (path, _) in zip(self.train_pairs, self.train_files):
            if not rescaled and min(pair.input.shape[1:]) < data.patch_size:
                raise UserError(
                    f"{path}: {pair.input.shape[1]}x{pair.input.shape[2]} px is smaller than data.patch_size "
                    f"{data.patch_size}; lower data.patch_size or remove the image"
                )
        self.val_pairs = self._load(self.val_files, "validation", progress)
        if not self.val_files:  # from here on, train_files and val_files are parallel to the pairs
            self.train_pairs, self.train_files, self.val_pairs, self.val_files = self._hold_back_pieces(rescaled)
        self.in_channels, self.input_dtype = check_consistent(
            self.train_pairs + self.val_pairs, [f for f, _ in self.train_files + self.val_files]
        )
        self.out_channels, self.target_dtype = check_targets(
            self.train_pairs + self.val_pairs, [t for _, t in self.train_files + self.val_files]
        )
        warn_if_all_masks_empty(self.train_pairs, data.target_dir)
        if config.task == "translation":
            check_fixed_range(config.target_norm, [p.target for p in self.train_pairs], data.target_dir)

    def _hold_back_pieces(self, rescaled: bool) -> tuple[list, list, list, list]:
        """Training rectangles and one validation piece of each image, with their files; images
        too small to cut (under twice the patch size along both sides) train whole."""
        patch = self.config.data.patch_size
        rng = np.random.default_rng(self.config.seed)
        train, train_files, val, val_files, whole = [], [], [], [], []
        for pair, files in zip(self.train_pairs, self.train_files):
            split = hold_back_piece(pair, patch, corner=int(rng.integers(4)))
            rest, piece = split or ([pair], None)
            train += rest
            train_files += [files] * len(rest)
            if piece is None:
                whole.append(files[0].name)
            else:
                val.append(piece)
                val_files.append(files)
        if not val:
            need = f"at least {2 * patch} px along one side (twice data.patch_size {patch})"
            if len(whole) > 1:
                raise UserError(
                    f"{self.config.data.input_dir}: no image is large enough to hold back a validation piece ({need}); "
                    "set data.val_fraction above 0 to hold out whole images, or lower data.patch_size"
                )
            (path, _), (h, w) = self.train_files[0], self.train_pairs[0].input.shape[1:]
            size = f"{h}x{w} px" + (" after rescaling to segmentation.object_diameter" if rescaled else "")
            raise UserError(f"{path}: {size} is too small to hold back a validation piece ({need}); "
                            "lower data.patch_size or add images")
        if whole:
            warnings.warn(f"{len(whole)} image(s) under {2 * patch} px along both sides ({', '.join(whole[:3])}"
                          f"{', ...' if len(whole) > 3 else ''}) train whole; validation uses pieces of the others")
        return train, train_files, val, val_files

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


def warn_if_all_masks_empty(pairs: list[TrainingPair], folder) -> None:
    """Masks without a single object in any training pair teach nothing but background, yet such a
    run trains to the end without a sign of it (an export that lost the labels, the wrong folder)."""
    labels = [p.labels for p in pairs if p.labels is not None]
    if labels and not any(np.any(mask) for mask in labels):
        warnings.warn(f"{folder}: every training mask is empty (no pixel above 0), so the model can only learn "
                      "background; check that the folder holds label masks (objects > 0) for these images")


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
