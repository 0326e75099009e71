"""Super-resolution (SRGAN/ESRGAN recipe): SRResNet or RRDB generator with PixelShuffle x2/x4,
an unconditional PatchGAN on the high-resolution output, L1 pre-training then L1 +
adversarial, and a VGG feature loss only when the user supplies its weights file.

Its kind (img2img/kinds/superres.py) tells the Predictor that outputs are `scale` times larger, so
tiles and blending weights are scaled with it."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from img2img.models.restoration import RestorationGan
from img2img.nets.rrdb import rrdb_net
from img2img.nets.vgg_features import load_vgg_features
from img2img.nets.srresnet import srresnet


class SuperRes(RestorationGan):
    def build_generator(self) -> nn.Module:
        model = self.config.model
        g = model.generator
        if g.kind == "rrdb":
            return rrdb_net(self.in_channels, self.out_channels, model.scale, g.n_blocks, g.base_channels, g.growth_channels)
        return srresnet(self.in_channels, self.out_channels, model.scale, g.n_blocks, g.base_channels, g.norm)

    def on_fit_start(self) -> None:
        """Load the user's feature network for training only: it is not part of the model, is
        not saved in checkpoints, and inference never needs its file."""
        model = self.config.model
        features = None
        if model.feature_weights is not None and model.feature_weight > 0:
            features = load_vgg_features(model.feature_weights, model.feature_layer).to(self.device)
        object.__setattr__(self, "_features", features)  # not a submodule: kept out of state_dict

    def extra_losses(self, fake: torch.Tensor, batch: dict) -> dict[str, tuple[float, torch.Tensor]]:
        features = getattr(self, "_features", None)
        if features is None:
            return {}
        return {"features": (self.config.model.feature_weight, features.distance(fake, batch["target"]))}

    def sample_panels(self, batch: dict, fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lr = F.interpolate(batch["input"][:1], size=fake.shape[-2:], mode="nearest")[0]
        return lr, fake[0], batch["target"][0]
