"""Untrained models with lively weights, and checkpoints of them, for inference tests that need
no training: tiling, dtypes and batch runs depend on shapes, not on what a model learned."""

from pathlib import Path

import torch

from img2img.config.schema import TrainConfig
from img2img.models.registry import build_model


def untrained(depth=3, norm="batch", in_channels=1, out_channels=2, task="segmentation", input_dtype="uint16",
              normalization=None, sections=None, **generator):
    """`sections`: further top-level config entries, e.g. {"input_channels": "rgb"}."""
    config = TrainConfig.model_validate({
        **(sections or {}),
        "task": task,
        "model": {"name": "pix2pix", "generator": {"depth": depth, "base_channels": 8, "norm": norm, "dropout": 0.0, **generator}},
        "data": {"input_dir": "unused", "target_dir": "unused", "patch_size": 64},
        **({"normalization": normalization} if normalization else {}),
    })
    torch.manual_seed(0)
    model = build_model(config, in_channels, out_channels, input_dtype,
                        target_dtype=input_dtype if task == "translation" else None).eval()
    # The reference N(0, 0.02) init gives a near-constant output, which would hide tiling errors.
    for m in model.generator.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.kaiming_uniform_(m.weight, a=0.2)
    return model


def save_checkpoint(model, path: Path) -> Path:
    """The parts of a Lightning checkpoint that `img2img.models.checkpoint.load_model` reads."""
    torch.save({"hyper_parameters": dict(model.hparams), "state_dict": model.state_dict()}, path)
    return path


def _lively(model, gain=1.0):
    for m in model.generator.modules() if not hasattr(model, "generator_ba") else [*model.generator.modules(), *model.generator_ba.modules()]:
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.kaiming_uniform_(m.weight, a=0.2)
            m.weight.data *= gain
    return model


def untrained_kind(kind: str):
    """A tiny untrained model of each exportable kind (for export round trips): segmentation,
    translation, cyclegan, superres (x2 SRResNet), superres_rrdb (x4), colorize, inpaint."""
    torch.manual_seed(0)
    if kind == "segmentation":
        return untrained()
    if kind == "translation":
        return untrained(task="translation", out_channels=1, normalization={"mode": "fixed", "min_value": 0, "max_value": 4000})
    fixed = {"mode": "fixed", "min_value": 0, "max_value": 1000}
    configs = {
        "cyclegan": ({"model": {"name": "cyclegan", "identity_weight": 0, "generator": {"n_blocks": 1, "base_channels": 8},
                                "discriminator": {"base_channels": 8}},
                      "data": {"a_dir": "a", "b_dir": "b", "patch_size": 24}}, (1, 3, "uint8", "uint8")),
        "superres": ({"model": {"name": "superres", "scale": 2, "generator": {"kind": "srresnet", "n_blocks": 2, "base_channels": 8},
                                "discriminator": {"base_channels": 8}},
                      "data": {"image_dir": "unused", "patch_size": 64}, "normalization": fixed}, (1, 1, "uint16", "uint16")),
        "superres_rrdb": ({"model": {"name": "superres", "scale": 4, "generator": {"kind": "rrdb", "n_blocks": 1, "base_channels": 8},
                                     "discriminator": {"base_channels": 8}},
                           "data": {"image_dir": "unused", "patch_size": 64}}, (1, 1, "uint16", "uint16")),
        "colorize": ({"model": {"name": "colorize", "keep_luminance": True, "generator": {"depth": 3, "base_channels": 8},
                                "discriminator": {"base_channels": 8}},
                      "data": {"input_dir": "a", "target_dir": "b", "patch_size": 64}, "normalization": {"mode": "dtype"}},
                     (1, 3, "uint8", "uint8")),
        "inpaint": ({"model": {"name": "inpaint", "generator": {"base_channels": 8, "n_dilated": 2}, "discriminator": {"base_channels": 8}},
                     "data": {"image_dir": "unused", "patch_size": 64}, "normalization": fixed}, (1, 1, "uint16", "uint16")),
    }
    raw, (cin, cout, din, dout) = configs[kind]
    model = build_model(TrainConfig.model_validate(raw), cin, cout, din, dout).eval()
    return _lively(model, 0.5 if kind.startswith("superres") else 1.0)
