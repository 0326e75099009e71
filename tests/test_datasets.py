"""Patch sampling and paired augmentation."""

import numpy as np

from img2img.config.schema import AugmentationConfig
from img2img.data.augmentation import PairedAugmentation
from img2img.data.datasets import PatchDataset, WholeImageDataset
from img2img.data.loading import TrainingPair


def _pair(h=300, w=400):
    labels = np.zeros((h, w), np.uint16)
    labels[280:290, 380:392] = 1  # one small object in a corner
    target = np.stack([labels > 0, labels > 0]).astype(np.float32) * 2 - 1
    image = np.random.default_rng(0).normal(0, 1, (1, h, w)).astype(np.float32)
    return TrainingPair("a", image, target, labels, "uint16")


def test_foreground_crops_contain_the_object():
    augment = PairedAugmentation(AugmentationConfig(), 64)
    always = PatchDataset([_pair()], augment, patches_per_image=20, patch_size=64, foreground_crops=1.0)
    assert all((always[i]["target"][0] > 0).any() for i in range(20))
    never = PatchDataset([_pair()], augment, patches_per_image=40, patch_size=64, foreground_crops=0.0)
    hits = sum(bool((never[i]["target"][0] > 0).any()) for i in range(40))
    assert hits < 20  # uniform crops mostly miss a 10x12 px object in a 300x400 image


def test_augmentation_keeps_alignment_and_does_not_clip():
    config = AugmentationConfig(brightness_contrast=0, gamma=0, blur=0, noise=0)
    x = np.arange(2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32) / 500 - 1  # -1 .. ~3
    xa, ya = PairedAugmentation(config, 32)(x, x.copy())
    np.testing.assert_array_equal(xa, ya)  # same geometry on both
    assert xa.min() == x.min() and xa.max() == x.max()

    # Intensity changes of the default size must not saturate the bright or dark tail
    # (albumentations clips to [0, 1]): the extremes stay single pixels, not plateaus.
    np.random.seed(0)
    intense = AugmentationConfig(brightness_contrast=0.1, gamma=0.2, blur=0, noise=0)
    for _ in range(20):
        xi, yi = PairedAugmentation(intense, 32)(x, x.copy())
        assert (xi == xi.max()).sum() == 1 and (xi == xi.min()).sum() == 1
    changed = [not np.array_equal(*PairedAugmentation(intense, 32)(x, x.copy())) for _ in range(10)]
    assert any(changed)  # intensity changes touch the input only, the target keeps its values


def test_small_images_are_padded_to_the_patch():
    pair = _pair(40, 50)
    x, y = PairedAugmentation(AugmentationConfig(), 64)(pair.input, pair.target)
    assert x.shape == (1, 64, 64) and y.shape == (2, 64, 64)


def test_validation_images_are_cropped_and_padded():
    item = WholeImageDataset([_pair(300, 700)], size_multiple=64, max_size=512)[0]
    assert tuple(item["size"].tolist()) == (300, 512)
    assert item["input"].shape[-2:] == (320, 512) and item["labels"].shape == (300, 512)
