"""Which Lightning data module a config trains from: pairs, two unmatched folders, one folder
of clean images (inputs made on the fly), or super-resolution pairs of different sizes."""

from __future__ import annotations

import pytorch_lightning as pl

from img2img.config.schema import TrainConfig


def build_datamodule(config: TrainConfig, progress: bool = True) -> pl.LightningDataModule:
    from img2img.data.datamodule import PairedDataModule
    from img2img.data.single import SingleFolderDataModule
    from img2img.data.sr_pairs import SRPairDataModule
    from img2img.data.unpaired import UnpairedDataModule

    if config.data.kind == "unpaired":
        kind = UnpairedDataModule
    elif config.data.kind == "single":
        kind = SingleFolderDataModule
    else:
        kind = SRPairDataModule if config.model.name == "superres" else PairedDataModule
    return kind(config, size_multiple=config.generator_size_multiple, progress=progress)
