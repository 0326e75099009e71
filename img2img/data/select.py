"""Which Lightning data module a config trains from: pairs, two unmatched folders, one folder
of clean images (inputs made on the fly), or super-resolution pairs of different sizes."""

from __future__ import annotations

import pytorch_lightning as pl

from img2img.config.schema import TrainConfig
from img2img.errors import UserError


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
    datamodule = kind(config, size_multiple=config.generator_size_multiple, progress=progress)
    model = config.model
    if model.name == "colorize" and model.keep_luminance and kind is PairedDataModule:
        from img2img.data.examples import check_colour_target

        check_colour_target(datamodule.out_channels, datamodule.train_files[0][1])
        if datamodule.in_channels != 1:
            raise UserError(f"{datamodule.train_files[0][0]}: has {datamodule.in_channels} channels but colorize with "
                            "keep_luminance reads one gray channel; give gray inputs or set model.keep_luminance: false")
    return datamodule
