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
