"""The two collective operations of DDP that our strategy (training/strategy.py) does itself."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


@torch.no_grad()
def all_reduce_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Average the gradients of the optimizer's parameters over all processes in one flat
    all-reduce (a parameter without a gradient counts as zeros, so every rank sends the same layout)."""
    params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
    if not params:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = _flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    for p, g in zip(params, _unflatten_dense_tensors(flat, grads)):
        if p.grad is None:
            p.grad = g.clone()
        else:
            p.grad.copy_(g)


@torch.no_grad()
def broadcast_buffers(module: nn.Module, src: int = 0) -> None:
    """Give every process rank `src`'s buffers (batch-norm running statistics, counters)."""
    buffers = list(module.buffers())
    for dtype in dict.fromkeys(b.dtype for b in buffers):  # the same order on every rank (a set's is not)
        same = [b for b in buffers if b.dtype == dtype]
        flat = _flatten_dense_tensors(same)
        dist.broadcast(flat, src)
        for b, v in zip(same, _unflatten_dense_tensors(flat, same)):
            b.copy_(v)
