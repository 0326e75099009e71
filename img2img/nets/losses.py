"""Adversarial losses: 'vanilla' (the Pix2Pix paper's cross-entropy) and 'lsgan' (least squares)."""

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
