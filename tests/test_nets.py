"""Generator/discriminator shapes and the reference architecture facts."""

import pytest
import torch

from img2img.nets import PatchDiscriminator, UNetGenerator, adversarial_loss, receptive_field


def test_unet256_matches_reference_size():
    g = UNetGenerator(3, 3)
    n_params = sum(p.numel() for p in g.parameters())
    assert 54.3e6 < n_params < 54.5e6  # the published U-Net-256 has 54.4 M parameters
    assert sum(isinstance(m, torch.nn.Dropout) for m in g.modules()) == 3


@pytest.mark.parametrize("cin,cout,depth,upsample", [(1, 2, 4, "transpose"), (3, 2, 5, "bilinear"), (2, 1, 3, "transpose")])
def test_unet_shapes_any_channels(cin, cout, depth, upsample):
    g = UNetGenerator(cin, cout, depth=depth, base_channels=8, upsample=upsample).eval()
    y = g(torch.randn(2, cin, 2**depth * 2, 2**depth * 3))
    assert y.shape == (2, cout, 2**depth * 2, 2**depth * 3)
    assert y.abs().max() <= 1.0  # tanh output


def test_unet_rejects_sizes_it_cannot_take():
    with pytest.raises(ValueError, match="divisible by 16"):
        UNetGenerator(1, 1, depth=4, base_channels=4)(torch.randn(1, 1, 24, 32))


def test_patchgan_is_70px_and_initialised_like_the_reference():
    d = PatchDiscriminator(4)
    assert receptive_field(3) == 70
    assert d(torch.randn(1, 4, 256, 256)).shape == (1, 1, 30, 30)
    conv = d.model[0]
    assert abs(conv.weight.std().item() - 0.02) < 0.003


def test_adversarial_losses():
    logits = torch.full((2, 1, 4, 4), 10.0)
    assert adversarial_loss(logits, True).item() < 1e-3
    assert adversarial_loss(logits, False).item() > 5
    assert adversarial_loss(torch.ones(3), True, "lsgan").item() == 0


def test_weighted_l1_counts_objects_more():
    from img2img.nets import weighted_l1

    target = -torch.ones(1, 2, 10, 10)
    target[:, :, 0, :2] = 1  # 2 object pixels out of 100
    empty = -torch.ones_like(target)
    plain, weighted = weighted_l1(empty, target, 1.0), weighted_l1(empty, target, 20.0)
    assert torch.isclose(plain, torch.tensor(2 * 2 * 2 / 200.0))
    assert weighted > 5 * plain  # predicting "no objects" is no longer cheap
    assert weighted_l1(target, target, 20.0) == 0
