"""The CycleGAN ResNet generator and the receptive fields of both generators."""

import pytest
import torch

from img2img.nets import ResNetGenerator, UNetGenerator


def test_resnet9_matches_reference_size():
    g = ResNetGenerator(3, 3)  # 64 base channels, 9 blocks, instance norm
    assert abs(sum(p.numel() for p in g.parameters()) / 1e6 - 11.378) < 0.001
    assert g.size_multiple == 4 and g.receptive_field == 169


@pytest.mark.parametrize("cin,cout,upsample,norm", [(1, 2, "transpose", "instance"), (3, 1, "bilinear", "batch")])
def test_resnet_takes_odd_multiples_of_4_and_any_channels(cin, cout, upsample, norm):
    g = ResNetGenerator(cin, cout, n_blocks=2, base_channels=8, norm=norm, upsample=upsample).eval()
    y = g(torch.randn(2, cin, 36, 44))
    assert y.shape == (2, cout, 36, 44) and y.abs().max() <= 1.0


def test_resnet_rejects_sizes_it_cannot_take():
    with pytest.raises(ValueError, match="divisible by 4"):
        ResNetGenerator(1, 1, n_blocks=1, base_channels=4)(torch.randn(1, 1, 30, 32))


def test_resnet_blocks_alone_can_run_in_bf16():
    """With `bf16_blocks_on` the residual blocks compute in bf16 and the full-resolution ends in
    float32 (the Predictor's fallback when bf16 as a whole changes the output too much)."""
    g = ResNetGenerator(1, 1, n_blocks=2, base_channels=8).eval()
    dtypes = {}
    for name, module in g.named_modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
            module.register_forward_hook(lambda m, i, out, name=name: dtypes.__setitem__(name, out.dtype))
    x = torch.randn(1, 1, 32, 32)
    with torch.inference_mode():
        reference = g(x)
        g.bf16_blocks_on = "cpu"
        mixed = g(x)
    blocks = {n for n in dtypes if int(n.split(".")[1]) in range(g.blocks.start, g.blocks.stop)}
    assert blocks and all(dtypes[n] == torch.bfloat16 for n in blocks)
    assert all(dtypes[n] == torch.float32 for n in set(dtypes) - blocks)
    assert mixed.dtype == torch.float32 and 0 < (mixed - reference).abs().max() < 0.05


def test_resnet_gradients_reach_every_parameter():
    g = ResNetGenerator(1, 1, n_blocks=2, base_channels=8, dropout=0.5)
    g(torch.randn(2, 1, 32, 32)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    assert abs(g.model[1].weight.std().item() - 0.02) < 0.005  # reference init N(0, 0.02)


def _measured_field(g: torch.nn.Module, size: int) -> int:
    """Widest input span with non-zero gradient for a few neighbouring output pixels (no norms,
    constant positive weights, so no ReLU is dead and nothing cancels)."""
    for m in g.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            m.weight.data.fill_(1.0 / m.weight[0].numel())
    x = (torch.rand(1, 1, size, size) + 0.1).requires_grad_(True)
    widest = 0
    for d in range(4):
        x.grad = None
        g(x)[0, 0, size // 2 + d, size // 2 + d].backward()
        rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
        widest = max(widest, int(rows.max() - rows.min() + 1))
    return widest


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_receptive_fields_match_the_measured_ones(upsample):
    resnet = ResNetGenerator(1, 1, n_blocks=1, base_channels=2, norm="none", upsample=upsample)
    unet = UNetGenerator(1, 1, depth=3, base_channels=2, norm="none", dropout=0.0, upsample=upsample)
    assert resnet.receptive_field == _measured_field(resnet, 96)
    assert unet.receptive_field == _measured_field(unet, 96)
