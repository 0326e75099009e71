"""Adversarial losses ('vanilla' cross-entropy as in the Pix2Pix paper, 'lsgan' least squares) and
the class-weighted L1 used for segmentation targets."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

GanMode = Literal["vanilla", "lsgan"]


def adversarial_loss(logits: torch.Tensor, real: bool, mode: GanMode = "vanilla") -> torch.Tensor:
    """Loss pushing the discriminator's patch outputs towards 'real' (1) or 'fake' (0)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    raise ValueError(f"unknown gan mode '{mode}'; use vanilla or lsgan")


def weighted_l1(prediction: torch.Tensor, target: torch.Tensor, foreground_weight: float) -> torch.Tensor:
    """L1 where object pixels (target channel 0 > 0) count `foreground_weight` times.

    L1's optimum is the per-pixel median: when objects cover 2% of a photo, "all background"
    is already a good answer and training stalls there. Weighting objects w times moves the
    decision to P(object) > 1 / (1 + w). Normalized by the weight sum so the loss scale, and
    with it l1_weight, keeps its meaning.
    """
    if foreground_weight == 1.0:
        return F.l1_loss(prediction, target)
    weight = 1.0 + (foreground_weight - 1.0) * (target[:, :1] > 0).to(prediction.dtype)
    weight = weight.expand_as(prediction)
    return ((prediction - target).abs() * weight).sum() / weight.sum()
