"""Model cards: a readable summary of what a checkpoint is and how it was made (`img2img info`).

Everything a user needs to judge a model travels in the checkpoint: the stored config and channel
facts (always there) and, in checkpoints written by `img2img train` since model cards exist, a
`model_card` entry with the training facts (data counts, steps, device, time, validation metrics
and the baseline's). Older checkpoints and the built-in model show what their config says.
"""

from __future__ import annotations

from typing import Any

CARD_KEY = "model_card"  # top-level checkpoint entry written by training/card.py


def model_card(checkpoint: dict) -> dict[str, Any]:
    """The card's facts as plain data (for JSON, the package README and the napari tooltip)."""
    hparams = checkpoint["hyper_parameters"]
    config = hparams["config"]
    model, data = config["model"], config.get("data", {})
    card: dict[str, Any] = {
        "model": model["name"],
        "task": config.get("task", "segmentation"),
        "generator": _generator_text(model),
        "channels": {"in": hparams.get("in_channels"), "out": hparams.get("out_channels"),
                     "input_channels": config.get("input_channels", "as_stored")},
        "pixel_types": {"input": hparams.get("input_dtype"), "target": hparams.get("target_dtype")},
        "normalization": _norm_text(config.get("normalization") or {}),
        "training_data": {k: str(v) for k, v in data.items() if k.endswith("_dir") and v},
        "steps_planned": config.get("schedule", {}).get("steps"),
        "img2img_version": hparams.get("img2img_version"),
    }
    if config.get("target_normalization"):
        card["target_normalization"] = _norm_text(config["target_normalization"])
    diameter = (config.get("segmentation") or {}).get("object_diameter")
    if card["task"] == "segmentation" and model["name"] == "pix2pix":
        card["segmentation"] = {"encoding": config["segmentation"].get("encoding"), "object_diameter_px": diameter}
    if "scale" in model:
        card["scale"] = model["scale"]
    stored = checkpoint.get(CARD_KEY)
    if isinstance(stored, dict):
        card["training"] = stored
    return card


def card_text(card: dict[str, Any], training: bool = True) -> str:
    """The card as aligned `key: value` lines (nested entries indented); `training`: say when the
    training facts are missing."""
    lines: list[str] = []
    _lines(card, 0, lines)
    if training and "training" not in card:
        lines.append("training: not recorded (checkpoint from before model cards, or not written by img2img train)")
    return "\n".join(lines)


def card_line(card: dict[str, Any]) -> str:
    """One line for a tooltip or status bar."""
    channels = card["channels"]
    parts = [f"{card['model']} {card['task']}", f"{channels['in']}->{channels['out']} channels",
             f"input {card['pixel_types']['input']}", f"normalization {card['normalization']}"]
    training = card.get("training") or {}
    if "steps" in training:
        parts.append(f"{training['steps']} steps")
    metrics = training.get("validation") or {}
    parts += [f"{k} {v:.3g}" for k, v in list(metrics.items())[:2] if isinstance(v, (int, float))]
    return ", ".join(parts)


def _lines(value: Any, depth: int, out: list[str], key: str | None = None) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        if key is not None:
            out.append(f"{pad}{key}:")
            depth += 1
        for k, v in value.items():
            _lines(v, depth, out, str(k))
        return
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    out.append(f"{pad}{key}: {text}" if key is not None else f"{pad}{text}")


def _generator_text(model: dict) -> str:
    g = model.get("generator") or {}
    kind = g.get("kind", "unet" if model["name"] in ("pix2pix", "colorize") else "")
    sizes = ", ".join(f"{k} {g[k]}" for k in ("depth", "n_blocks", "base_channels", "n_dilated") if g.get(k) is not None)
    return f"{kind} ({sizes})".strip() if sizes else kind or model["name"]


def _norm_text(norm: dict) -> str:
    mode = norm.get("mode", "percentile")
    if mode == "percentile":
        return f"percentile {norm.get('low', 1.0)}-{norm.get('high', 99.8)} per image and channel -> [-1, 1]"
    if mode == "fixed":
        return f"fixed {norm.get('min_value')}..{norm.get('max_value')} -> [-1, 1]"
    return "pixel type's full range -> [-1, 1]"
