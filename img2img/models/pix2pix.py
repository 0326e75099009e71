"""Pix2Pix (Isola et al. 2017): a generator (U-Net, or the CycleGAN ResNet) trained with L1 to
the target plus a conditional PatchGAN that sees (input, output) pairs. One discriminator
update, then one generator update, per batch. Validation scores object F1 for segmentation
and PSNR/SSIM for translation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from img2img.segmentation.metrics import aggregate_scores, segmentation_scores
from img2img.nets.padding import crop_to
from img2img.models.gan_base import GanModule
from img2img.models.generators import build_generator
from img2img.nets import PatchDiscriminator, adversarial_loss, weighted_l1
from img2img.segmentation.encoding import decode_rescaled


class Pix2Pix(GanModule):
    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        super().__init__(config, in_channels, out_channels, input_dtype, target_dtype)
        model = self.config.model
        self.generator = build_generator(self.config, in_channels, out_channels)
        d = model.discriminator
        self.discriminator = PatchDiscriminator(in_channels + out_channels, d.base_channels, d.n_layers, d.norm)
        self._val_scores: list[dict] = []

    @property
    def size_multiple(self) -> int:
        return self.generator.size_multiple

    def training_step(self, batch: dict, batch_idx: int) -> None:
        x, y = batch["input"], batch["target"]
        cfg = self.config.model
        opt_g, opt_d = self.optimizers()
        fake = self.generator(x)

        # Discriminator: real pairs towards 1, generated pairs towards 0.
        d_real = self.discriminator(torch.cat([x, y], 1))
        d_fake = self.discriminator(torch.cat([x, fake.detach()], 1))
        loss_d = 0.5 * (adversarial_loss(d_real, True, cfg.gan_mode) + adversarial_loss(d_fake, False, cfg.gan_mode))
        self.optimize(opt_d, loss_d)

        # Generator: fool the (frozen) discriminator and stay close to the target.
        self.set_requires_grad(self.discriminator, False)
        loss_gan = adversarial_loss(self.discriminator(torch.cat([x, fake], 1)), True, cfg.gan_mode)
        loss_l1 = weighted_l1(fake, y, cfg.foreground_weight)  # 1.0 (plain L1) for translation
        loss_g = cfg.gan_weight * loss_gan + cfg.l1_weight * loss_l1
        self.optimize(opt_g, loss_g)
        self.update_ema()
        self.set_requires_grad(self.discriminator, True)
        self.step_schedulers()

        self.log_dict(
            {"train/loss_d": loss_d, "train/loss_g": loss_g, "train/loss_g_gan": loss_gan, "train/loss_l1": loss_l1},
            prog_bar=True, on_step=True, on_epoch=False, batch_size=x.shape[0],
        )

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        x, y = batch["input"], batch["target"]
        fake = self.eval_net("generator")(x)
        self.log("val/loss_l1", F.l1_loss(fake, y), on_epoch=True, batch_size=1)
        size = tuple(int(s) for s in batch["size"][0])
        if self.config.task == "translation":
            self._log_image_quality(crop_to(fake, size), crop_to(y, size))
        else:
            prediction = crop_to(fake[0].float().cpu().numpy(), size)
            labels = decode_rescaled((prediction + 1) / 2, self.config.segmentation.decoding)
            self._val_scores.append(segmentation_scores(labels, batch["labels"][0].cpu().numpy()))
        self.collect_sample(*(crop_to(t[0], size) for t in (x, fake, y)))

    def _log_image_quality(self, fake: torch.Tensor, target: torch.Tensor) -> None:
        """PSNR and SSIM on [0, 1] images (data range 1), averaged over validation images."""
        fake, target = ((t.float().clamp(-1, 1) + 1) / 2 for t in (fake, target))
        self.log("val/psnr", peak_signal_noise_ratio(fake, target, data_range=1.0), on_epoch=True, batch_size=1, prog_bar=True)
        self.log("val/ssim", structural_similarity_index_measure(fake, target, data_range=1.0), on_epoch=True, batch_size=1)

    def on_validation_epoch_end(self) -> None:
        if self._val_scores:
            summary = aggregate_scores(self._val_scores)
            self.log_dict({"val/f1": summary["f1"], "val/pixel_iou": summary["pixel_iou"]}, prog_bar=True)
            # The DSB 2018 score (mean accuracy over IoU 0.5..0.95, mean over images) for comparison
            # with published numbers; val/f1 still picks best.ckpt.
            self.log("val/dsb_score", summary["dsb_score"])
        self._val_scores = []
        self.write_samples()
