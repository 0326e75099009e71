"""An exponential moving average (EMA) of generator weights.

GAN generators oscillate from step to step as the discriminator pushes back; the average of
their recent weights makes steadier, often better images (Karras et al., Yazıcı et al. 2019).
The copies live in the LightningModule (`ema.nets.<name>`), so they are in every checkpoint,
come back on resume, and `load_model` can hand them to inference.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA(nn.Module):
    def __init__(self, nets: dict[str, nn.Module], decay: float):
        super().__init__()
        self.decay = decay
        self.nets = nn.ModuleDict({name: copy.deepcopy(net).requires_grad_(False) for name, net in nets.items()})

    def decay_at(self, step: int) -> float:
        """Warm-up: early weights are mostly noise, so average over at most (1 + step) / (10 + step)."""
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, nets: dict[str, nn.Module], step: int) -> None:
        """Move each average a share (1 - decay) towards the live weights; float buffers (batch-norm
        statistics) are averaged alike, integer ones (batch counters) copied."""
        weight = 1.0 - self.decay_at(step)
        for name, net in nets.items():
            average = self.nets[name]
            torch._foreach_lerp_(list(average.parameters()), [p.detach() for p in net.parameters()], weight)
            for mine, live in zip(average.buffers(), net.buffers()):
                if mine.is_floating_point():
                    mine.lerp_(live, weight)
                else:
                    mine.copy_(live)

    @torch.no_grad()
    def copy_to(self, nets: dict[str, nn.Module]) -> None:
        """Overwrite the live networks with the averages (for inference)."""
        for name, net in nets.items():
            net.load_state_dict(self.nets[name].state_dict())
