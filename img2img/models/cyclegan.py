"""CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B.

Two ResNet generators, `generator` (A->B) and `generator_ba` (B->A), and a PatchGAN per domain.
Without pairs nothing says what A->B must produce except that B's discriminator accepts it and
that B->A brings it back (cycle L1, weight 10); the identity term (G_AB(b) ~ b) keeps colours and
intensities from drifting. Reference order per batch: one step of both generators, then one of
both discriminators on fakes drawn from a 50-image history pool.

`forward` runs A->B, or B->A when `direction == "BtoA"`, so the Predictor can run either way
from one checkpoint. The input normalization and pixel type stored in the checkpoint are A's
(`input_dtype`) and B's (`target_dtype`).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from img2img.errors import UserError
from img2img.models.gan_base import GanModule
from img2img.models.generators import build_generator
from img2img.models.image_pool import ImagePool
from img2img.nets import PatchDiscriminator, adversarial_loss
from img2img.nets.padding import crop_to

DIRECTIONS = ("AtoB", "BtoA")


class CycleGAN(GanModule):
    EMA_NETS = ("generator", "generator_ba")
    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        super().__init__(config, in_channels, out_channels, input_dtype, target_dtype)
        model = self.config.model
        if model.identity_weight > 0 and in_channels != out_channels:
            raise UserError(
                f"model.identity_weight: the identity loss feeds B images to the A->B generator, but A has "
                f"{in_channels} channel(s) and B {out_channels}; set model.identity_weight=0"
            )
        self.generator = build_generator(self.config, in_channels, out_channels)  # A -> B
        self.generator_ba = build_generator(self.config, out_channels, in_channels)  # B -> A
        d = model.discriminator
        self.discriminator_a = PatchDiscriminator(in_channels, d.base_channels, d.n_layers, d.norm)
        self.discriminator_b = PatchDiscriminator(out_channels, d.base_channels, d.n_layers, d.norm)
        self.pool_a, self.pool_b = ImagePool(model.pool_size), ImagePool(model.pool_size)
        self.direction = "AtoB"
        self._val_cycle: dict[int, list[float]] = {0: [], 1: []}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """The history pools are training state too: without them a resumed run shows its
        discriminators other fakes than an uninterrupted one would (this process's pools)."""
        checkpoint["image_pools"] = {"a": self.pool_a.state_dict(), "b": self.pool_b.state_dict()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        pools = checkpoint.get("image_pools")
        if pools:
            self.pool_a.load_state_dict(pools["a"])
            self.pool_b.load_state_dict(pools["b"])

    @property
    def direction(self) -> str:
        """Which generator `forward` runs: "AtoB" (default) or "BtoA". Not saved in checkpoints."""
        return self._direction

    @direction.setter
    def direction(self, value: str) -> None:
        if value not in DIRECTIONS:
            raise UserError(f"direction {value!r}: use AtoB or BtoA")
        self._direction = value

    @property
    def size_multiple(self) -> int:
        return self.generator.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.eval_net("generator_ba" if self.direction == "BtoA" else "generator")(x)

    def configure_optimizers(self):
        opt_g = self.adam(itertools.chain(self.generator.parameters(), self.generator_ba.parameters()))
        opt_d = self.adam(itertools.chain(self.discriminator_a.parameters(), self.discriminator_b.parameters()))
        return [opt_g, opt_d], self.schedulers_for(opt_g, opt_d)

    def training_step(self, batch: dict, batch_idx: int) -> None:
        real_a, real_b = batch["a"], batch["b"]
        cfg = self.config.model
        mode = cfg.gan_mode
        opt_g, opt_d = self.optimizers()

        # Generators: fool the (frozen) discriminators and come back round the cycle.
        fake_b = self.generator(real_a)
        fake_a = self.generator_ba(real_b)
        for d in (self.discriminator_a, self.discriminator_b):
            self.set_requires_grad(d, False)
        loss_gan = (adversarial_loss(self.discriminator_b(fake_b), True, mode)
                    + adversarial_loss(self.discriminator_a(fake_a), True, mode))
        loss_cycle_a = F.l1_loss(self.generator_ba(fake_b), real_a)
        loss_cycle_b = F.l1_loss(self.generator(fake_a), real_b)
        loss_g = loss_gan + cfg.cycle_weight * (loss_cycle_a + loss_cycle_b)
        logs = {}
        if cfg.identity_weight > 0:
            loss_identity = F.l1_loss(self.generator(real_b), real_b) + F.l1_loss(self.generator_ba(real_a), real_a)
            loss_g = loss_g + cfg.cycle_weight * cfg.identity_weight * loss_identity
            logs["train/loss_identity"] = loss_identity
        self.optimize(opt_g, loss_g)
        self.update_ema()
        for d in (self.discriminator_a, self.discriminator_b):
            self.set_requires_grad(d, True)

        # Discriminators: real towards 1, fakes from the history pools towards 0.
        pooled_b, pooled_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        loss_d_a = 0.5 * (adversarial_loss(self.discriminator_a(real_a), True, mode)
                          + adversarial_loss(self.discriminator_a(pooled_a), False, mode))
        loss_d_b = 0.5 * (adversarial_loss(self.discriminator_b(real_b), True, mode)
                          + adversarial_loss(self.discriminator_b(pooled_b), False, mode))
        self.optimize(opt_d, loss_d_a + loss_d_b)
        self.step_schedulers()

        logs.update({
            "train/loss_d_a": loss_d_a, "train/loss_d_b": loss_d_b, "train/loss_g_gan": loss_gan,
            "train/loss_cycle_a": loss_cycle_a, "train/loss_cycle_b": loss_cycle_b,
        })
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, batch_size=real_a.shape[0])
        self.log("train/loss_g", loss_g, prog_bar=True, on_step=True, on_epoch=False, batch_size=real_a.shape[0])

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Loader 0 holds A images (A -> B -> A), loader 1 B images (B -> A -> B)."""
        x = batch["input"]
        ab, ba = self.eval_net("generator"), self.eval_net("generator_ba")
        there, back = (ab, ba) if dataloader_idx == 0 else (ba, ab)
        translated = there(x)
        restored = back(translated)
        size = tuple(int(s) for s in batch["size"][0])
        self._val_cycle[dataloader_idx].append(float(F.l1_loss(crop_to(restored, size), crop_to(x, size))))
        # Sample rows: A | A->B | A->B->A for the first half, B | B->A | B->A->B for the rest.
        n = self.config.trainer.samples
        rows = (n + 1) // 2 if dataloader_idx == 0 else n // 2
        if batch_idx < rows:
            self.collect_sample(*(crop_to(t[0], size) for t in (x, translated, restored)))

    def on_validation_epoch_end(self) -> None:
        means = [sum(v) / len(v) for v in self._val_cycle.values() if v]
        if len(means) == 2:
            self.log_dict({"val/loss_cycle_a": means[0], "val/loss_cycle_b": means[1],
                           "val/loss_cycle": (means[0] + means[1]) / 2}, prog_bar=False)
        self._val_cycle = {0: [], 1: []}
        self.write_samples()
