"""Gated convolutions for inpainting (Yu et al. 2019, DeepFill v2): every layer learns a soft
mask (a sigmoid gate) next to its features, so it can tell hole pixels, known pixels and
pixels it has already filled apart at every depth; a plain convolution treats the zeros in a
hole as real dark pixels. The generator is DeepFill's coarse network, slimmed: two stride-2
gated convolutions, dilated gated convolutions (a wide view across large holes at low cost),
then up-sampling by nearest neighbour + gated convolution (no checkerboard).

One addition for small budgets: the network starts from the biharmonic fill (`smooth_fill.py`,
the best classical method on smooth microscopy) and learns only the correction, its last layer
starting near zero, as the SR generator learns on top of bicubic. A plain gated network trained
450 CPU steps on nuclei stayed far below biharmonic inpainting (26 vs 33 dB in the holes), and one
started from a harmonic (Laplace) fill stayed level with Telea (32.3 vs biharmonic 35.0): in a
short run it must not have to learn first what a classical fill already knows. The correction is
applied inside the holes only: added everywhere, the L1 term on known pixels (its gradient has
constant size) pulls any output back to zero, and a measured run of 500 steps left the last layer
at its initial weights. (Those runs predate the initialisation in `GatedConv2d`, under which the
early layers could hardly learn at all; docs/restoration.md has the runs since.)"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from img2img.nets.receptive import receptive_field
from img2img.nets.smooth_fill import biharmonic_fill

DILATIONS = (2, 4, 8, 16)
# How far the biharmonic start reaches: a hole's fill depends on its whole rim, so holes up to this
# size (px) are filled the same in any tile whose overlap covers them.
FILL_REACH = 128
GATE_OPEN_BIAS = 2.0


class GatedConv2d(nn.Module):
    """ELU(features) * sigmoid(gate), both from one convolution with twice the output channels."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, dilation: int = 1,
                 activation: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel, stride, dilation * (kernel - 1) // 2, dilation)
        self.activation = activation
        self.geometry = ("conv", dilation * (kernel - 1) + 1, stride, dilation * (kernel - 1) // 2)
        # PyTorch's default init shrinks the signal about 3x per layer, and a half-closed gate
        # (sigmoid(0) = 0.5) halves it again: through this net's 16 layers the gradient reaching the
        # first layer started at 1e-8 of the last layer's. He init and gates starting mostly open
        # (sigmoid(2) = 0.88) keep the signal's size through depth (tests/test_inpaint.py).
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        nn.init.zeros_(self.conv.bias)
        nn.init.constant_(self.conv.bias[out_channels:], GATE_OPEN_BIAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, gate = self.conv(x).chunk(2, dim=1)
        if self.activation:
            features = F.elu(features)
        return features * torch.sigmoid(gate)


class GatedInpaintNet(nn.Module):
    """(image with holes, mask) -> a full image; the caller copies the known pixels back."""

    SIZE_MULTIPLE = size_multiple = 4  # two stride-2 gated convolutions

    def __init__(self, image_channels: int, base_channels: int = 32, n_dilated: int = 4):
        super().__init__()
        c = base_channels
        self.encoder = nn.ModuleList([
            GatedConv2d(image_channels + 1, c, 5), GatedConv2d(c, 2 * c, 3, 2), GatedConv2d(2 * c, 2 * c),
            GatedConv2d(2 * c, 4 * c, 3, 2), GatedConv2d(4 * c, 4 * c),
        ])
        self.middle = nn.ModuleList([GatedConv2d(4 * c, 4 * c, 3, dilation=DILATIONS[i % len(DILATIONS)])
                                     for i in range(n_dilated)])
        self.decoder = nn.ModuleList([GatedConv2d(4 * c, 2 * c), GatedConv2d(2 * c, 2 * c), GatedConv2d(2 * c, c),
                                      GatedConv2d(c, c // 2)])
        self.out = nn.Conv2d(c // 2, image_channels, 3, 1, 1)
        nn.init.normal_(self.out.weight, 0.0, 1e-3)  # start at the smooth fill
        nn.init.zeros_(self.out.bias)
        layers = [g.geometry for g in [*self.encoder, *self.middle]]
        layers += [("bilinear", 0, 2, 0), self.decoder[0].geometry, self.decoder[1].geometry,
                   ("bilinear", 0, 2, 0), self.decoder[2].geometry, self.decoder[3].geometry, ("conv", 3, 1, 1)]
        self.receptive_field = max(receptive_field(layers), FILL_REACH)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        start = biharmonic_fill(image, mask)
        x = torch.cat([start, mask], 1)
        ph, pw = -h % self.size_multiple, -w % self.size_multiple
        if ph or pw:  # the Predictor pads already; this keeps direct calls on any size working
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        for layer in [*self.encoder, *self.middle]:
            x = layer(x)
        x = self.decoder[1](self.decoder[0](F.interpolate(x, scale_factor=2, mode="nearest")))
        x = self.decoder[3](self.decoder[2](F.interpolate(x, scale_factor=2, mode="nearest")))
        return start + mask * self.out(x)[..., :h, :w]
