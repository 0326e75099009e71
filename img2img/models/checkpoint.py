"""Safe checkpoint loading: tensors and plain data only (`weights_only=True`), never pickled code."""

from __future__ import annotations

from pathlib import Path

import torch

from img2img.builtin import resolve_model_path
from img2img.errors import UserError
from img2img.models.gan_base import GanModule
from img2img.models.registry import model_class


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict, or a one-line error if it is missing, damaged or not ours.

    `builtin:NAME` names a model that ships with the package (see img2img.builtin)."""
    path = resolve_model_path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged zip, truncated file, foreign pickle
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot load checkpoint ({reason[:200]}); pass a .ckpt written by 'img2img train'") from None
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "img2img_version" not in hparams:
        raise UserError(f"{path}: not an img2img checkpoint; pass a .ckpt written by 'img2img train'")
    return checkpoint


def checkpoint_model_name(checkpoint: dict) -> str:
    return checkpoint["hyper_parameters"]["config"]["model"]["name"]


def load_model(path: str | Path) -> GanModule:
    """Rebuild the model from the hyperparameters stored in the checkpoint and load its weights
    (the EMA weights, when the run kept an EMA)."""
    checkpoint = read_checkpoint(path)
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k != "img2img_version"}
    model = model_class(checkpoint_model_name(checkpoint))(**hparams)
    model.ensure_ema()
    try:
        result = model.load_state_dict(checkpoint["state_dict"], strict=False)
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit the stored model ({str(exc).splitlines()[0]})") from None
    # A slim checkpoint (the built-in model) may leave out the discriminators, which inference never
    # runs; everything else must be there, and nothing foreign.
    missing = [k for k in result.missing_keys if not k.startswith("discriminator")]
    if missing or result.unexpected_keys:
        what = f"missing {missing[:3]}" if missing else f"unexpected {result.unexpected_keys[:3]}"
        raise UserError(f"{path}: weights do not fit the stored model ({what})")
    model.use_ema_weights()  # inference runs the averaged generator where training kept one
    return model.eval()
