"""The training facts of a model card, written into every checkpoint (`img2img info` reads them).

A checkpoint alone should say what a model was trained on and how well it did: the data folders and
how many images each held, the steps done, the device and the training time (summed over resumed
runs), the latest validation metrics, and the same metrics for a classical baseline on the same
validation images, computed once when training starts: Otsu + watershed for segmenters, the input
itself for translation, bicubic upscaling for super-resolution, the biharmonic fill for inpainting
and the gray image for colorization. A number without its baseline cannot be judged.
"""

from __future__ import annotations

import math
import platform
import time
from itertools import islice

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from img2img.config.schema import TrainConfig
from img2img.errors import first_line
from img2img.models.card import CARD_KEY
from img2img.nets.padding import crop_to

BASELINE_IMAGES = 8  # validation images the baseline is scored on (as many as validation has, up to this)


class ModelCardRecorder(pl.Callback):
    def __init__(self, config: TrainConfig, datamodule):
        self.config = config
        self.datamodule = datamodule
        self.data = data_counts(datamodule)
        self.seconds_before = 0.0  # training time of earlier runs this one resumed
        self.started: float | None = None
        self.baseline: dict | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module) -> None:
        self.started = time.perf_counter()
        if trainer.is_global_zero and self.baseline is None:
            try:
                self.baseline = baseline_metrics(self.config, self.datamodule)
            except Exception as error:  # a card must never stop training
                self.baseline = {"name": "not computed", "reason": first_line(error, typed=True, limit=120)}

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module, checkpoint: dict) -> None:
        metrics = {k.removeprefix("val/"): round(float(v), 4) for k, v in trainer.callback_metrics.items()
                   if k.startswith("val/") and math.isfinite(float(v))}
        card = {
            "steps": int(pl_module.training_steps_done),
            "data": self.data,
            "device": describe_device(trainer),
            "training_seconds": round(self.seconds(), 1),
            "validation": metrics,
            "best_metric": self.config.best_metric.removeprefix("val/"),
        }
        if self.baseline is not None:
            card["baseline"] = self.baseline
        checkpoint[CARD_KEY] = card

    def seconds(self) -> float:
        return self.seconds_before + (time.perf_counter() - self.started if self.started is not None else 0.0)

    def state_dict(self) -> dict:
        return {"seconds": self.seconds(), "baseline": self.baseline}

    def load_state_dict(self, state_dict: dict) -> None:
        self.seconds_before = float(state_dict.get("seconds", 0.0))
        self.baseline = state_dict.get("baseline")


def data_counts(datamodule) -> dict:
    """Images per role: training and validation files (paired, single-folder) or A/B images (unpaired)."""
    counts = {}
    for name in ("train_files", "val_files", "a", "b", "val_a", "val_b"):
        value = getattr(datamodule, name, None)
        if isinstance(value, (list, tuple)):
            counts[name.removesuffix("_files") + "_images"] = len(value)
    return counts


def describe_device(trainer: pl.Trainer) -> str:
    device = trainer.strategy.root_device
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    return f"{trainer.num_devices} x {name}, precision {trainer.precision}"


def baseline_metrics(config: TrainConfig, datamodule) -> dict:
    """The classical baseline's validation metrics, named as the model's are."""
    name = config.model.name
    if name == "cyclegan":
        return {"name": "none (unpaired data has no target to score a baseline against)"}
    loaders = datamodule.val_dataloader()
    batches = list(islice(loaders, BASELINE_IMAGES))
    if not batches:
        return {"name": "none (no validation images)"}
    if name == "pix2pix" and config.task == "segmentation":
        return _segmentation_baseline(batches)
    make = {"pix2pix": ("input itself", _identity), "superres": ("bicubic upscaling", _bicubic(config)),
            "inpaint": ("biharmonic fill", _biharmonic), "colorize": ("gray image", _gray)}[name]
    scores = []
    for batch in batches:
        guess = make[1](batch)
        if guess is None:
            return {"name": f"none ({make[0]} does not fit these channels)"}
        target = batch["target"]
        size = tuple(int(s) * (target.shape[-1] // batch["input"].shape[-1]) for s in batch["size"][0])
        guess, target = ((crop_to(t, size).float().clamp(-1, 1) + 1) / 2 for t in (guess, target))
        scores.append((float(peak_signal_noise_ratio(guess, target, data_range=1.0)),
                       float(structural_similarity_index_measure(guess, target, data_range=1.0))))
    psnr, ssim = np.mean(scores, axis=0)
    return {"name": make[0], "images": len(scores), "psnr": round(float(psnr), 4), "ssim": round(float(ssim), 4)}


def _segmentation_baseline(batches) -> dict:
    from img2img.evaluation.baselines import otsu_watershed
    from img2img.segmentation.metrics import aggregate_scores, segmentation_scores

    per_image = []
    for batch in batches:
        size = tuple(int(s) for s in batch["size"][0])
        image = crop_to(batch["input"][0].float().numpy(), size)
        per_image.append(segmentation_scores(otsu_watershed(image, bright_objects="auto"), batch["labels"][0].numpy()))
    summary = aggregate_scores(per_image)
    return {"name": "Otsu + watershed", "images": len(per_image), "f1": round(float(summary["f1"]), 4),
            "dsb_score": round(float(summary["dsb_score"]), 4)}


def _identity(batch):
    x, y = batch["input"], batch["target"]
    return x if x.shape == y.shape else None


def _bicubic(config: TrainConfig):
    def make(batch):
        return F.interpolate(batch["input"].float(), scale_factor=config.model.scale, mode="bicubic", align_corners=False)
    return make


def _biharmonic(batch):
    from img2img.nets.smooth_fill import biharmonic_fill

    return biharmonic_fill(batch["input"].float(), batch["mask"].float())


def _gray(batch):
    from img2img.data.color import yuv_to_rgb_torch

    x, y = batch["input"].float(), batch["target"]
    if x.shape[1] != 1 or y.shape[1] != 3:
        return None
    return yuv_to_rgb_torch(x, torch.zeros_like(x).repeat(1, 2, 1, 1))
