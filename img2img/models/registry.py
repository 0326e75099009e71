"""One table from model names to Lightning modules, shared by the CLI, the Python API and
the napari plugin, so they cannot drift apart."""

from __future__ import annotations

from img2img.config.schema import TrainConfig
from img2img.errors import UserError
from img2img.models.gan_base import GanModule
from img2img.models.colorize import Colorize
from img2img.models.cyclegan import CycleGAN
from img2img.models.inpaint import Inpaint
from img2img.models.pix2pix import Pix2Pix
from img2img.models.superres import SuperRes

MODELS: dict[str, type[GanModule]] = {"pix2pix": Pix2Pix, "cyclegan": CycleGAN, "superres": SuperRes, "inpaint": Inpaint, "colorize": Colorize}


def model_class(name: str) -> type[GanModule]:
    try:
        return MODELS[name]
    except KeyError:
        raise UserError(f"unknown model '{name}'; choose from {sorted(MODELS)}") from None


def build_model(
    config: TrainConfig, in_channels: int, out_channels: int, input_dtype: str, target_dtype: str | None = None
) -> GanModule:
    return model_class(config.model.name)(
        config=config.model_dump(mode="json"), in_channels=in_channels, out_channels=out_channels,
        input_dtype=input_dtype, target_dtype=target_dtype,
    )
