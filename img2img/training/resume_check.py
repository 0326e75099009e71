"""`--resume` safety: the checkpoint must be of the model the config trains, on data of the
same shape, or Lightning fails deep inside with a page of size-mismatch errors."""

from __future__ import annotations

from pathlib import Path

from img2img.config.schema import TrainConfig
from img2img.errors import UserError
from img2img.models.checkpoint import checkpoint_model_name, read_checkpoint


def check_resume(path: Path, config: TrainConfig) -> dict:
    """The checkpoint's hyperparameters, after checking its model settings against the config's."""
    checkpoint = read_checkpoint(path)
    name = checkpoint_model_name(checkpoint)
    if name != config.model.name:
        raise UserError(f"{path}: is a '{name}' checkpoint but the config trains '{config.model.name}'; resume with a matching config")
    hparams = checkpoint["hyper_parameters"]
    stored, wanted = hparams["config"], config.model_dump(mode="json")
    for section in ("model", "trainer.ema_decay"):
        for key, (old, new) in _differences(_get(stored, section), _get(wanted, section), section).items():
            raise UserError(
                f"{path}: was trained with {key}={old!r} but the config has {new!r}; resume with the run's "
                f"config.yaml, or start a new run"
            )
    return hparams


def check_resumed_data(path: Path, hparams: dict, in_channels: int, out_channels: int) -> None:
    for what, old, new in (("input", hparams["in_channels"], in_channels), ("target", hparams["out_channels"], out_channels)):
        if old != new:
            raise UserError(f"{path}: was trained on {what} images with {old} channel(s), these have {new}; "
                            "resume on the run's data, or start a new run")


def _get(config: dict, dotted: str):
    for part in dotted.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config


def _differences(old, new, prefix: str) -> dict[str, tuple]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for key in sorted(set(old) | set(new)):
            out.update(_differences(old.get(key), new.get(key), f"{prefix}.{key}"))
        return out
    return {} if old == new else {prefix: (old, new)}
