"""The Noise2Void Lightning module: one network, one optimizer, Lightning's automatic
optimization. The loss is the mean squared error on the hidden (blind-spot) pixels only, against
their noisy values; validation reports the same loss on held-out images (no clean image exists to
score against), and its sample grids show each held-out noisy crop next to the network's output
on the whole, unmasked crop, which is what inference returns.
"""

from __future__ import annotations

import torch
from torch import nn

from img2img.models.base import ImageModule
from img2img.models.generators import build_generator
from img2img.nets.padding import crop_to


class Noise2Void(ImageModule):
    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None):
        super().__init__(config, in_channels, out_channels, input_dtype, target_dtype)
        self.generator = linear_output(build_generator(self.config, in_channels, out_channels))

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = blind_spot_loss(self.generator(batch["input"]), batch["target"], batch["mask"])
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=False, batch_size=batch["input"].shape[0])
        return loss

    def on_train_batch_end(self, outputs, batch: dict, batch_idx: int) -> None:
        self.update_ema()  # after Lightning's optimizer step for this batch

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        net = self.eval_net("generator")
        self.log("val/loss", blind_spot_loss(net(batch["input"]), batch["target"], batch["mask"]),
                 on_epoch=True, batch_size=1, prog_bar=True)
        size = tuple(int(s) for s in batch["size"][0])
        noisy = crop_to(batch["target"], size)
        self.collect_sample(noisy[0], crop_to(net(batch["target"]), size)[0])

    def on_validation_epoch_end(self) -> None:
        self.write_samples()


def blind_spot_loss(output: torch.Tensor, noisy: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the hidden pixels (mask 1) of every channel."""
    mask = mask.to(output.dtype).expand_as(output)
    return ((output.float() - noisy.float()) ** 2 * mask).sum() / mask.sum().clamp(min=1.0)


def linear_output(unet: nn.Module) -> nn.Module:
    """The Pix2Pix U-Net ends in tanh, which caps outputs at the normalization range; a denoiser of
    noisy pixels needs the whole line (N2V and CARE use a linear output)."""
    last = unet.up[-1]
    if not isinstance(last[-1], nn.Tanh):
        raise TypeError("expected the U-Net's last layer to be tanh")
    last[-1] = nn.Identity()
    return unet
