"""Generators, discriminators and losses shared by every model."""

from img2img.nets.losses import adversarial_loss, weighted_l1
from img2img.nets.patchgan import PatchDiscriminator, receptive_field
from img2img.nets.resnet import ResNetGenerator
from img2img.nets.unet import UNetGenerator

__all__ = ["UNetGenerator", "ResNetGenerator", "PatchDiscriminator", "receptive_field", "adversarial_loss", "weighted_l1"]
