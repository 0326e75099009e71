"""Validated training configuration."""

from img2img.config.loading import apply_override, load_config, validate_config
from img2img.config.schema import TrainConfig

__all__ = ["TrainConfig", "load_config", "validate_config", "apply_override"]
