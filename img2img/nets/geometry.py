"""The input side multiple of each generator kind, asked of the network classes themselves.

The config checks the patch size against it, the data modules pad validation images to it and
the Predictor plans tiles on it, all before any network is built; asking the class (not a table
of numbers kept beside it) means a network that down-samples once more cannot disagree with them.
"""

from __future__ import annotations

from img2img.nets.gated import GatedInpaintNet
from img2img.nets.resnet import ResNetGenerator
from img2img.nets.srresnet import SuperResolutionNet
from img2img.nets.unet import UNetGenerator

# generator.kind -> the class that builds it (rrdb is a SuperResolutionNet with other blocks)
NETWORKS = {"unet": UNetGenerator, "resnet": ResNetGenerator, "srresnet": SuperResolutionNet,
            "rrdb": SuperResolutionNet, "gated": GatedInpaintNet}


def size_multiple(kind: str, depth: int | None = None) -> int:
    """Input height and width of a `kind` generator must be multiples of this (`depth`: U-Net only)."""
    network = NETWORKS[kind]
    return network.multiple_for(depth) if kind == "unet" else network.SIZE_MULTIPLE
