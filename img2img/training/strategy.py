"""DDP for GANs with manual optimization: Lightning's DDP strategy without the module wrapper.

DistributedDataParallel syncs gradients inside each backward and expects every parameter to get
one. A GAN step has two backward passes (discriminator, then generator, or the reverse), each of
which leaves the other network without gradients: plain DDP then fails ("parameters that were
not used"), and find_unused_parameters=True all-reduces every network's buckets on both passes,
twice the traffic. This strategy keeps what Lightning's DDP does (launching, process group,
rank-zero checkpoints and logs) but leaves the module unwrapped and does DDP's two jobs itself,
for any module and any update order:

- before each `optimizer.step()`, that optimizer's gradients are averaged over all processes,
  in one flat all-reduce: exactly once per step and network;
- before each training step, every process takes rank 0's buffers (batch-norm statistics), as
  DDP's broadcast_buffers does. (`trainer.sync_batchnorm` instead pools the statistics, GPU only.)

Weights start equal: rank 0's are broadcast once at set-up.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pytorch_lightning.overrides.distributed import _sync_module_states
from pytorch_lightning.strategies import DDPStrategy

from img2img.training.collectives import all_reduce_gradients, broadcast_buffers


class GanDDPStrategy(DDPStrategy):
    strategy_name = "gan_ddp"

    def configure_ddp(self) -> None:
        _sync_module_states(self.model)  # every rank starts from rank 0's weights and buffers

    def optimizer_step(self, optimizer, closure, model=None, **kwargs: Any) -> Any:
        """Average the stepped optimizer's gradients over all processes, then step. A GAN (manual
        optimization) has its gradients when it calls `optimizer.step()`; a single-network model
        (automatic optimization, e.g. Noise2Void) makes them inside `closure`, so they are averaged
        right after it."""
        if self.world_size > 1:
            if self.lightning_module.automatic_optimization:
                closure = partial(_then_average, closure, optimizer)
            else:
                all_reduce_gradients(optimizer)
        return super().optimizer_step(optimizer, closure, model, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        if self.world_size > 1:
            broadcast_buffers(self.lightning_module)
        return super().training_step(*args, **kwargs)


def _then_average(closure, optimizer) -> Any:
    """Run Lightning's training closure (forward and backward), then average the gradients it made."""
    loss = closure()
    all_reduce_gradients(optimizer)
    return loss
