"""What super-resolution, inpainting and colorization share: a generator trained with L1 to a
clean target, first alone (`pretrain_steps`, as SRGAN/ESRGAN pre-train their generator so the
GAN starts from a sensible image), then with a PatchGAN's adversarial term. Validation scores
PSNR/SSIM on [0, 1] images. Subclasses say how the generator reads a batch and what the
discriminator sees."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from img2img.kinds import kind_of
from img2img.models.gan_base import GanModule
from img2img.nets import PatchDiscriminator, adversarial_loss
from img2img.nets.padding import crop_to


class RestorationGan(GanModule):
    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        super().__init__(config, in_channels, out_channels, input_dtype, target_dtype)
        self.generator = self.build_generator()
        d = self.config.model.discriminator
        self.discriminator = PatchDiscriminator(self.discriminator_channels, d.base_channels, d.n_layers, d.norm)

    # --- what subclasses provide ---------------------------------------------------------
    def build_generator(self) -> nn.Module:
        raise NotImplementedError

    @property
    def discriminator_channels(self) -> int:
        return self.out_channels

    def generate(self, batch: dict, net: nn.Module | None = None) -> torch.Tensor:
        """The output of `net` (default: the trained generator) for a batch (inpainting also reads the mask)."""
        return (net or self.generator)(batch["input"])

    def judged(self, batch: dict, image: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of a real or generated image (default: the image alone)."""
        return image

    def reconstruction_loss(self, fake: torch.Tensor, batch: dict) -> torch.Tensor:
        return F.l1_loss(fake, batch["target"])

    def extra_losses(self, fake: torch.Tensor, batch: dict) -> dict[str, tuple[float, torch.Tensor]]:
        """name -> (weight, loss) terms added to the generator loss (e.g. the perceptual loss)."""
        return {}

    def sample_panels(self, batch: dict, fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return batch["input"][0], fake[0], batch["target"][0]

    # --- shared --------------------------------------------------------------------------
    @property
    def output_scale(self) -> int:
        """Output pixels per input pixel, as the kind declares it (super-resolution: model.scale)."""
        return kind_of(self.config).output_scale(self.config.model)

    def adversarial_now(self) -> bool:
        cfg = self.config.model
        return cfg.gan_weight > 0 and self.training_steps_done >= cfg.pretrain_steps

    def training_step(self, batch: dict, batch_idx: int) -> None:
        cfg = self.config.model
        opt_g, opt_d = self.optimizers()
        fake = self.generate(batch)
        adversarial = self.adversarial_now()
        logs = {}
        if adversarial:
            real_logits = self.discriminator(self.judged(batch, batch["target"]))
            fake_logits = self.discriminator(self.judged(batch, fake.detach()))
            loss_d = 0.5 * (adversarial_loss(real_logits, True, cfg.gan_mode) + adversarial_loss(fake_logits, False, cfg.gan_mode))
            self.optimize(opt_d, loss_d)
            logs["train/loss_d"] = loss_d
        # Pre-training leaves D alone: steps are counted in batches (ImageModule.training_steps_done),
        # not optimizer steps, so no empty D step is needed to keep the count.

        loss_l1 = self.reconstruction_loss(fake, batch)
        loss_g = cfg.l1_weight * loss_l1
        for name, (weight, value) in self.extra_losses(fake, batch).items():
            loss_g = loss_g + weight * value
            logs[f"train/loss_{name}"] = value
        if adversarial:
            self.set_requires_grad(self.discriminator, False)
            loss_gan = adversarial_loss(self.discriminator(self.judged(batch, fake)), True, cfg.gan_mode)
            loss_g = loss_g + cfg.gan_weight * loss_gan
            logs["train/loss_g_gan"] = loss_gan
        self.optimize(opt_g, loss_g)
        self.update_ema()
        self.set_requires_grad(self.discriminator, True)
        self.step_schedulers()
        logs["train/loss_l1"], logs["train/loss_g"] = loss_l1, loss_g
        self.log_dict(logs, prog_bar=True, on_step=True, on_epoch=False, batch_size=fake.shape[0])

    def validation_output(self, batch: dict) -> torch.Tensor:
        """The image the user would get for a validation batch (inpainting: holes filled, rest copied)."""
        return self.generate(batch, self.eval_net("generator"))

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        fake = self.validation_output(batch)
        size = tuple(int(s) * self.output_scale for s in batch["size"][0])
        fake, target = crop_to(fake, size), crop_to(batch["target"], size)
        self.log("val/loss_l1", F.l1_loss(fake, target), on_epoch=True, batch_size=1)
        unit_fake, unit_target = ((t.float().clamp(-1, 1) + 1) / 2 for t in (fake, target))
        self.log("val/psnr", peak_signal_noise_ratio(unit_fake, unit_target, data_range=1.0), on_epoch=True,
                 batch_size=1, prog_bar=True)
        self.log("val/ssim", structural_similarity_index_measure(unit_fake, unit_target, data_range=1.0),
                 on_epoch=True, batch_size=1)
        cropped = {**batch, "target": target}
        self.collect_sample(*self.sample_panels(cropped, fake))

    def on_validation_epoch_end(self) -> None:
        self.write_samples()
