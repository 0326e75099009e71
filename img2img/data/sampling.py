"""Training samples as a pure function of (seed, step), which is what makes `--resume` exact.

Each epoch's order is drawn from (seed, epoch) and each sample carries its own seed for its
random crop and augmentation, so nothing depends on a global random state or on how far a
data-loading worker had read ahead. A resumed run, a run with more workers, or one rank of a DDP
run therefore sees exactly the samples it would have seen uninterrupted: the sampler only needs
the number of training steps already done, which the checkpoint holds (`global_step`).

Under DDP each rank takes every world_size-th item of the same epoch order, so the ranks never
see the same sample in one step and no DistributedSampler (which would reshuffle) is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Sampler


def balanced_order(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """`length` indices into range(n): whole random permutations back to back, cut to length, so
    every index appears floor or ceil(length / n) times (all of them once length >= n)."""
    rounds = -(-length // n)
    return np.concatenate([rng.permutation(n) for _ in range(rounds)])[:length]


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class StepSampler(Sampler):
    """Base: yields this rank's items of the current epoch, starting after the batches done.

    `items` is how many samples one epoch has before rounding up to whole batches on every rank
    (a few random repeats fill the last one, so no image is dropped with a partial batch).
    `steps_done()` returns the training steps completed so far (0 outside a Trainer); each step
    takes one batch, so it fixes the epoch and the position in it."""

    def __init__(self, items: int, batch_size: int, seed: int, steps_done: Callable[[], int] | None = None):
        self.items, self.batch_size, self.seed = items, batch_size, seed
        self.steps_done = steps_done or (lambda: 0)

    def batches_per_epoch(self) -> int:
        _, world = rank_and_world()
        return max(1, -(-self.items // (world * self.batch_size)))

    def __len__(self) -> int:
        return self.batches_per_epoch() * self.batch_size

    def __iter__(self) -> Iterator[tuple]:
        rank, world = rank_and_world()
        per_epoch = self.batches_per_epoch()
        epoch, done = divmod(self.steps_done(), per_epoch)
        rng = np.random.default_rng([self.seed, epoch])
        mine = self.epoch_items(rng, per_epoch * self.batch_size * world)[rank::world]
        return iter(mine[done * self.batch_size:])

    def epoch_items(self, rng: np.random.Generator, length: int) -> list[tuple]:
        """All ranks' items of one epoch, each a tuple ending in that sample's seed."""
        raise NotImplementedError


class PairedSampler(StepSampler):
    """(index, seed) items: every index of range(items) once per epoch in a fresh order."""

    def epoch_items(self, rng: np.random.Generator, length: int) -> list[tuple[int, int]]:
        order = balanced_order(self.items, length, rng)
        seeds = rng.integers(0, 2**62, length)
        return list(zip(order.tolist(), seeds.tolist()))


def steps_done(trainer) -> int:
    """Training steps (batches) `trainer` has completed: 0 outside a Trainer. A module that steps
    several optimizers per batch says so with `training_steps_done` (Lightning's `global_step`
    counts optimizer steps)."""
    if trainer is None:
        return 0
    return int(getattr(trainer.lightning_module, "training_steps_done", trainer.global_step))


def loader_generator(seed: int) -> torch.Generator:
    """For the DataLoader's worker base seed, which otherwise draws from torch's global generator
    at every epoch start and so would shift dropout and pool draws after a resume."""
    return torch.Generator().manual_seed(seed)
