"""Which Lightning data module a config trains from: pairs, two unmatched folders, one folder
of clean images (inputs made on the fly), or super-resolution pairs of different sizes."""

from __future__ import annotations

import pytorch_lightning as pl

from img2img.config.schema import TrainConfig
from img2img.kinds import kind_of, load


def build_datamodule(config: TrainConfig, progress: bool = True) -> pl.LightningDataModule:
    """The data module for `config.data.kind`; paired data may be read by the kind's own module
    (super-resolution: pairs of different sizes), and a kind may check the data found."""
    from img2img.data.single import SingleFolderDataModule
    from img2img.data.unpaired import UnpairedDataModule

    kind = kind_of(config)
    if config.data.kind == "unpaired":
        module = UnpairedDataModule
    elif config.data.kind == "single":
        module = SingleFolderDataModule
    else:
        module = load(kind.paired_data)
    datamodule = module(config, size_multiple=config.generator_size_multiple, progress=progress)
    if kind.data_check is not None:
        load(kind.data_check)(datamodule)
    return datamodule
