"""What the widgets need to know about a model as soon as it is chosen: its kind, the object
size it was trained at and its model card. Read from the config stored in the checkpoint, so a damaged file is
reported at once and controls that do not apply can be disabled before anything runs."""

from __future__ import annotations

from dataclasses import dataclass

from img2img.builtin import resolve_model_path
from img2img.kinds import find_kind
from img2img.models.card import card_line, card_text, model_card
from img2img.models.checkpoint import DIRECTION_KEY, read_checkpoint
from img2img.models.packages import is_foreign_package

FOREIGN = "bioimageio"  # ModelFacts.name of a package not made by img2img


@dataclass(frozen=True)
class ModelFacts:
    name: str  # registry name (img2img/kinds/): pix2pix, cyclegan, superres, inpaint, colorize, ...
    task: str  # segmentation or translation
    object_diameter: float | None  # px the segmenter was trained at; None: it reads images as stored
    card: str = ""  # the model card (`img2img info`), for a tooltip
    summary: str = ""  # the card in one line, for the details line
    direction: str = "AtoB"  # CycleGAN: the direction it runs by default (a package records its own)

    @property
    def train_kind(self) -> str:
        """The Train widget's kind that makes models like this one."""
        kind = find_kind(self.name)
        presets = kind.presets if kind else ()
        return next((p.key for p in presets if p.task == self.task), presets[0].key if presets else self.name)


def model_facts(source: str) -> ModelFacts:
    """Facts of a checkpoint path, builtin:NAME or BioImage.IO package; a `UserError` in plain words if
    it is unreadable. A package from elsewhere runs with its own processing: no choices to offer."""
    if is_foreign_package(source):
        return ModelFacts(FOREIGN, "translation", None, f"BioImage.IO package {source}", "BioImage.IO package "
                          "from elsewhere: runs with its own pre- and post-processing")
    checkpoint = read_checkpoint(resolve_model_path(source))
    config = checkpoint["hyper_parameters"]["config"]
    task = config.get("task", "segmentation")
    diameter = (config.get("segmentation") or {}).get("object_diameter") if task == "segmentation" else None
    card = model_card(checkpoint)
    return ModelFacts(config["model"]["name"], task, None if diameter is None else float(diameter),
                      card_text(card), card_line(card), checkpoint.get(DIRECTION_KEY) or "AtoB")
