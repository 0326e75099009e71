"""A perceptual (feature) loss from VGG-19 (as SRGAN/ESRGAN), built only from a weights file the
user gives: nothing is downloaded. The layer layout and names follow torchvision's `vgg19().features`
(keys `features.N.weight`/`bias` or `N.weight`), so its published state dict loads; only layers up to
`last_layer` are built and read, so a file with just those layers works too."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from img2img.errors import UserError, first_line

# torchvision vgg19 "E" configuration: conv widths, "M" = 2x2 max pool.
VGG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg19_layers(last_layer: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG19:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, 1, 1), nn.ReLU(inplace=False)]
            channels = item
    return nn.Sequential(*layers[: last_layer + 1])


class FeatureDistance(nn.Module):
    """L1 between VGG features of two images in [-1, 1]; gray images are repeated to RGB,
    other channel counts are compared per channel as gray."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self.layers = layers.eval()
        for p in self.layers.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def _rgb(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 3:
            x = x.reshape(-1, 1, *x.shape[-2:]).expand(-1, 3, -1, -1)
        return ((x + 1) / 2 - self.mean) / self.std

    def distance(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            reference = self.layers(self._rgb(target))
        return F.l1_loss(self.layers(self._rgb(fake)), reference)


def load_vgg_features(path: str | Path, last_layer: int) -> FeatureDistance:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model.feature_weights {path}: no such file; give a VGG-19 weights file or remove the key")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"model.feature_weights {path}: cannot load ({first_line(exc, limit=150)})") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    state = {k.removeprefix("features."): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    layers = vgg19_layers(last_layer)
    wanted = layers.state_dict()
    missing = [k for k in wanted if k not in state]
    if missing:
        raise UserError(f"model.feature_weights {path}: lacks {missing[0]} (and {len(missing) - 1} more) of VGG-19 "
                        f"layers 0..{last_layer}; give torchvision's vgg19 weights or lower model.feature_layer")
    try:
        layers.load_state_dict({k: state[k] for k in wanted})
    except RuntimeError as exc:
        raise UserError(f"model.feature_weights {path}: weights do not fit VGG-19 ({first_line(exc, limit=150)})") from None
    return FeatureDistance(layers)
