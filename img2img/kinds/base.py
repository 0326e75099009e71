"""What a model kind declares, in one place, for every front door to read.

A kind's file (or folder) under img2img/kinds/ holds its model config section and one
`ModelKind`: the data it learns from, the task it does, the metric that picks best.ckpt, how
inference must treat it (a hole mask as extra input, a larger output, two directions) and its
entries in the napari Train widget. The config schema, data selection, training, the CLI, the
`Predictor`, evaluation and the plugin ask the registry (img2img/kinds/__init__.py) instead of
matching model names.

The declaration imports only config-level code, so that the config schema can be built from the
registry. Heavier parts (the Lightning module, the example maker, the evaluator, a data module)
are named as "package.module:attribute" and imported when first needed; they may live in the
kind's own folder (see img2img/kinds/n2v/) or anywhere in the library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DATA_KINDS = ("paired", "unpaired", "single")
# What each data kind asks the user to give, for the one-line error of a kind/data mismatch.
_GIVE = {"paired": "data.input_dir and data.target_dir", "unpaired": "data.a_dir and data.b_dir",
         "single": "data.image_dir"}


@dataclass(frozen=True)
class Preset:
    """One entry of the napari Train widget's model menu: a small, laptop-sized model.

    `model(steps, base_channels)` returns the `model` section; `data` is the data kind the widget
    fills from layers (single: one image layer, the kind makes its inputs itself)."""

    key: str
    label: str
    model: Callable[[int, int], dict]
    data: str
    task: str = "translation"
    lr: float = 2e-4
    data_settings: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"batch_size": 1}


@dataclass(frozen=True)
class ModelKind:
    name: str
    config: type  # the pydantic `model` section, whose `name` field is Literal[name]
    module: str  # "package.module:Class" of the Lightning module
    data: tuple[str, ...]  # data kinds it learns from; the first is the default
    default_generator: str  # generator.kind when a config leaves it out
    task: str | None = None  # the one task it does (set by default); None: segmentation or translation
    task_reason: str = "makes images"  # "model NAME <task_reason>; set task: translation"
    wrong_data: str | None = None  # the error when data.kind is not one of `data` (default: what to give)
    augmentation: Mapping[str, float] = field(default_factory=dict)  # changed augmentation defaults
    optimizer: Mapping[str, float] = field(default_factory=dict)  # changed optimizer defaults (GANs: Adam beta1 0.5)
    best_metric: str | None = None  # fixed metric for best.ckpt; None: val/psnr (translation) or val/f1
    check: Callable[[Any], None] | None = None  # kind-specific config rules: raise ValueError
    examples: str | None = None  # "module:Class" ExampleMaker: a training example from one image (data single)
    paired_data: str = "img2img.data.datamodule:PairedDataModule"  # data module for data kind paired
    data_check: str | None = None  # "module:function"(datamodule): kind-specific checks of the data found
    evaluator: str | None = None  # "module:function" scoring it against its baselines; None: by task
    target_optional: bool = False  # evaluate: without --target, the inputs are made from clean images
    takes_mask: bool = False  # inference appends a hole mask (1 = fill) as the last input channel
    directions: tuple[str, ...] = ()  # ways it can run (CycleGAN: AtoB, BtoA); empty: one way
    output_scale: Callable[[Any], int] = field(default=lambda model: 1)  # output px per input px, from `model`
    presets: tuple[Preset, ...] = ()

    def module_class(self) -> type:
        return load(self.module)

    def metric(self, task: str) -> str:
        """The validation metric that picks best.ckpt."""
        return self.best_metric or ("val/psnr" if task == "translation" else "val/f1")

    def data_error(self, given: str) -> str:
        """The one-line error for a config whose data kind this model cannot learn from."""
        if self.wrong_data:
            return self.wrong_data
        if self.data == ("unpaired",):
            return f"model {self.name} trains on two unmatched folders: give {_GIVE['unpaired']}"
        unless = f", not {_GIVE[given]}" if given == "single" else ""
        return f"model {self.name} trains on pairs: give {_GIVE['paired']}{unless}"


def load(reference: str) -> Any:
    """The attribute a "package.module:attribute" reference names, imported now."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)
