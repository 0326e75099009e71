"""The registry of model kinds: every front door (config schema, data selection, training, CLI,
`Predictor`, evaluation, napari plugin) looks a kind up here instead of matching its name.

Adding a kind: write img2img/kinds/NAME.py (or a folder NAME/ with __init__.py) that defines its
config section and `KIND = ModelKind(...)` (see base.py and docs/design.md), then add its name
below. Nothing else changes.
"""

from __future__ import annotations

from importlib import import_module

from img2img.errors import UserError
from img2img.kinds.base import DATA_KINDS, ModelKind, Preset, load

REGISTERED = (
    "pix2pix",
    "cyclegan",
    "superres",
    "inpaint",
    "colorize",
    "n2v",
)

KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (import_module(f"{__name__}.{name}").KIND for name in REGISTERED)}


def find_kind(name: object) -> ModelKind | None:
    """The kind called `name`, or None (also for names that are not text)."""
    return KINDS.get(name) if isinstance(name, str) else None


def get_kind(name: str) -> ModelKind:
    """The kind called `name`, or a one-line error listing the kinds there are."""
    kind = find_kind(name)
    if kind is None:
        raise UserError(f"unknown model '{name}'; choose from {sorted(KINDS)}")
    return kind


def kind_of(config) -> ModelKind:
    """The kind of a validated `TrainConfig` (or a model's `config`)."""
    return KINDS[config.model.name]


__all__ = ["DATA_KINDS", "KINDS", "ModelKind", "Preset", "find_kind", "get_kind", "kind_of", "load"]
