"""Safe checkpoint loading: tensors and plain data only (`weights_only=True`), never pickled code."""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import ValidationError

from img2img.builtin import resolve_model_path
from img2img.config.loading import validate_config
from img2img.errors import UserError, first_line
from img2img.models.base import ImageModule
from img2img.models.card import CARD_KEY
from img2img.models.packages import checkpoint_source, is_package
from img2img.kinds import get_kind
from img2img.models.registry import model_class


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict, or a one-line error if it is missing, damaged or not ours.

    `builtin:NAME` names a model that ships with the package (see img2img.builtin); a BioImage.IO
    package written by `img2img export` gives the checkpoint it carries (img2img.models.packages)."""
    path = resolve_model_path(path)
    if not path.is_file() and not is_package(path):
        raise UserError(f"{path}: no such checkpoint file")
    source = checkpoint_source(path)
    try:
        checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged zip, truncated file, foreign pickle
        if str(exc).startswith(WEIGHTS_ONLY_REFUSAL):
            raise UserError(f"{path}: cannot load checkpoint: the safe loader, which runs no pickled code, refused "
                            f"it ({_refusal_reason(str(exc))}); pass a .ckpt written by 'img2img train'") from None
        raise UserError(f"{path}: cannot load checkpoint ({first_line(exc)}); pass a .ckpt written by 'img2img train'") from None
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "img2img_version" not in hparams:
        raise UserError(f"{path}: not an img2img checkpoint; pass a .ckpt written by 'img2img train'")
    config = hparams.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict) or "name" not in config["model"]:
        raise UserError(f"{path}: the checkpoint's stored config lacks model.name; pass a .ckpt written by 'img2img train'")
    if not isinstance(checkpoint.get("state_dict"), dict):
        raise UserError(f"{path}: the checkpoint holds no weights (state_dict); pass a .ckpt written by 'img2img train'")
    return checkpoint


# torch.load's message when weights_only=True meets a pickled object: boilerplate first (which
# suggests weights_only=False, which we never do), the reason in a later line.
WEIGHTS_ONLY_REFUSAL = "Weights only load failed"
_BOILERPLATE = (WEIGHTS_ONLY_REFUSAL, "Please file an issue", "Check the documentation")


def _refusal_reason(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(_BOILERPLATE)]
    return (reasons[0] if reasons else "unsupported content").rstrip(".")[:200]


def checkpoint_model_name(checkpoint: dict) -> str:
    return checkpoint["hyper_parameters"]["config"]["model"]["name"]


def load_model(path: str | Path) -> ImageModule:
    """Rebuild the model from the hyperparameters stored in the checkpoint and load its weights
    (the EMA weights, when the run kept an EMA)."""
    checkpoint = read_checkpoint(path)
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k != "img2img_version"}
    try:
        model = model_class(checkpoint_model_name(checkpoint))(**hparams)
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, ValidationError):  # an edited stored config: the config's own one-line error
            validate_config(hparams["config"], source=f"{path}: stored config")
        raise UserError(f"{path}: the checkpoint's stored settings do not build a model ({first_line(exc)}); "
                        "pass a .ckpt written by 'img2img train'") from None
    model.ensure_ema()
    try:
        result = model.load_state_dict(checkpoint["state_dict"], strict=False)
    except RuntimeError as exc:  # "Error(s) in loading state_dict ...:" then one line per mismatch
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise UserError(f"{path}: weights do not fit the stored model ({lines[min(1, len(lines) - 1)][:200]})") from None
    # A slim checkpoint (the built-in model) may leave out the discriminators, which inference never
    # runs; everything else must be there, and nothing foreign.
    missing = [k for k in result.missing_keys if not k.startswith("discriminator")]
    if missing or result.unexpected_keys:
        what = f"missing {missing[:3]}" if missing else f"unexpected {result.unexpected_keys[:3]}"
        raise UserError(f"{path}: weights do not fit the stored model ({what})")
    model.use_ema_weights()  # inference runs the averaged generator where training kept one
    model.training_card = checkpoint.get(CARD_KEY)  # its validation PSNR sets the bf16 tolerance (inference/precision.py)
    if checkpoint.get(DIRECTION_KEY) in get_kind(checkpoint_model_name(checkpoint)).directions:
        model.direction = checkpoint[DIRECTION_KEY]  # a CycleGAN package runs the direction it was exported in
    return model.eval()


# A package of one CycleGAN direction (img2img export --direction) records it in its checkpoint.
DIRECTION_KEY = "img2img_direction"
