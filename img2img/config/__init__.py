"""Validated training configuration.

The names below are imported when first used, so that `img2img.config.sections` (the shared
sections that model kinds build their own from) loads without the whole schema, which is
assembled from the kind registry (img2img/kinds/).
"""

from importlib import import_module

_EXPORTS = {"TrainConfig": "schema", "load_config": "loading", "validate_config": "loading", "apply_override": "loading"}

__all__ = ["TrainConfig", "load_config", "validate_config", "apply_override"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
