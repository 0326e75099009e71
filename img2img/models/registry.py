"""Model name -> Lightning module, read from the kind registry (img2img/kinds/), so the CLI, the
Python API and the napari plugin build the same module for a config or a checkpoint."""

from __future__ import annotations

from img2img.config.schema import TrainConfig
from img2img.kinds import get_kind
from img2img.models.base import ImageModule


def model_class(name: str) -> type[ImageModule]:
    return get_kind(name).module_class()


def build_model(
    config: TrainConfig, in_channels: int, out_channels: int, input_dtype: str, target_dtype: str | None = None
) -> ImageModule:
    return model_class(config.model.name)(
        config=config.model_dump(mode="json"), in_channels=in_channels, out_channels=out_channels,
        input_dtype=input_dtype, target_dtype=target_dtype,
    )
