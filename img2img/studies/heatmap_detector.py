"""A small learned point detector: a conv net that draws a Gaussian heat map of object centres.

It stands in for the tracker a larva researcher would train. It is learned, so what it is
trained on matters: that is what the sim-to-real experiment measures (trained on raw simulated
frames, on CycleGAN-translated ones, or on annotated real ones, with the same settings).
Centres are the local maxima of the heat map above a fixed threshold (`peak_local_max`).

Images are 2D uint8 arrays scaled by 1/255, the same for every training set, so nothing
but the pixels tells the domains apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from skimage.feature import peak_local_max
from torch import nn


@dataclass(frozen=True)
class DetectorSettings:
    steps: int = 1000
    batch_size: int = 8
    crop: int = 64  # px, random training crops (a quarter of a 128 px frame: 4x cheaper on a CPU)
    lr: float = 1e-3
    sigma: float = 2.0  # px, width of the Gaussian drawn at each centre
    threshold: float = 0.5  # heat-map peak height that counts as a detection (a centre is drawn as 1)
    min_distance: int = 4  # px between two detections
    seed: int = 0


class HeatmapNet(nn.Module):
    """Encoder to 1/4 resolution with dilated convolutions (receptive field about 70 px, a whole
    larva at 128 px), decoded back to full resolution with skip connections."""

    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        conv = lambda i, o, s=1, d=1: nn.Sequential(nn.Conv2d(i, o, 3, s, padding=d, dilation=d), nn.ReLU(inplace=True))  # noqa: E731
        self.full = conv(1, w)
        self.down2 = nn.Sequential(conv(w, 2 * w, s=2), conv(2 * w, 2 * w))
        self.down4 = nn.Sequential(conv(2 * w, 3 * w, s=2), conv(3 * w, 3 * w, d=2), conv(3 * w, 3 * w, d=4))
        self.up_half = conv(5 * w, 2 * w)
        self.up_full = conv(3 * w, w)
        self.head = nn.Conv2d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.full(x)
        h = self.down2(f)
        q = self.down4(h)
        h = self.up_half(torch.cat([F.interpolate(q, size=h.shape[-2:], mode="bilinear", align_corners=False), h], 1))
        f = self.up_full(torch.cat([F.interpolate(h, size=f.shape[-2:], mode="bilinear", align_corners=False), f], 1))
        return self.head(f)


def heat_map(points_xy: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Target: the maximum of unit Gaussians at each (x, y) point, float32."""
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    heat = np.zeros(shape, np.float32)
    for px, py in np.asarray(points_xy, float).reshape(-1, 2):
        heat = np.maximum(heat, np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * sigma**2)))
    return heat


def _as_input(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"the detector reads 8-bit frames, got {image.dtype}")
    return image.astype(np.float32) / 255.0


def train_detector(images: list[np.ndarray], points: list[np.ndarray], settings: DetectorSettings = DetectorSettings(),
                   log=None) -> HeatmapNet:
    """Train on random crops of the frames with their centres (x, y), random flips and 90-degree turns.

    The loss is a mean squared error weighted up where the target is high, so the few centre
    pixels are not drowned by the background."""
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    x = np.stack([_as_input(im) for im in images])[:, None]
    y = np.stack([heat_map(p, im.shape, settings.sigma) for im, p in zip(images, points, strict=True)])[:, None]
    net = HeatmapNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.steps)
    net.train()
    for step in range(settings.steps):
        pick = rng.integers(0, len(x), settings.batch_size)
        c = min(settings.crop, x.shape[2], x.shape[3])
        r0, c0 = (int(rng.integers(0, n - c + 1)) for n in x.shape[2:])
        xb, yb = x[pick, :, r0 : r0 + c, c0 : c0 + c], y[pick, :, r0 : r0 + c, c0 : c0 + c]
        k, flip = int(rng.integers(4)), bool(rng.integers(2))  # one geometry per batch (frames are square)
        xb, yb = (np.rot90(a, k, axes=(2, 3)) for a in (xb, yb))
        if flip:
            xb, yb = xb[..., ::-1], yb[..., ::-1]
        xb, yb = torch.from_numpy(xb.copy()), torch.from_numpy(yb.copy())
        loss = ((net(xb) - yb) ** 2 * (1 + 20 * yb)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if log is not None and (step + 1) % 250 == 0:
            log(f"  detector step {step + 1}/{settings.steps}: loss {loss.item():.4f}")
    return net.eval()


@torch.no_grad()
def predict_heat(net: HeatmapNet, image: np.ndarray) -> np.ndarray:
    return net(torch.from_numpy(_as_input(image))[None, None])[0, 0].numpy()


def detect(net: HeatmapNet, image: np.ndarray, settings: DetectorSettings = DetectorSettings()) -> np.ndarray:
    """Detected centres as an (N, 2) array of x, y."""
    heat = predict_heat(net, image)
    peaks = peak_local_max(heat, min_distance=settings.min_distance, threshold_abs=settings.threshold,
                           exclude_border=False)
    return peaks[:, ::-1].astype(float)  # row, col -> x, y
