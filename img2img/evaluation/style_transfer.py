"""Did a translation move the style and keep the structure? Measures for unpaired style transfer.

- Style, without training: the distance between the colour histograms of two image sets
  (total variation of 8x8x8-bin RGB histograms, 0 = same colours, 1 = disjoint).
- Style, learned: a small CNN trained to tell the two training collections apart; its mean
  "painting" probability on translated images (the raw photos and real paintings bracket it).
- Structure: the correlation between the edge maps (Sobel magnitude of the grey image blurred
  by 2 px) of the input and the output: 1 when every edge stays where it was, near 0 for
  unrelated images. The blur keeps the object outlines and drops the fine texture that is
  the style (SSIM of the edge maps could barely tell a painting of the same scene from one of
  another scene: 0.19 against 0.11).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

BINS = 8


def colour_histogram(images: list[np.ndarray]) -> np.ndarray:
    """Normalized BINS^3 RGB histogram pooled over uint8 RGB images."""
    total = np.zeros(BINS**3)
    for image in images:
        q = (image.reshape(-1, 3).astype(np.int64) * BINS) // 256
        total += np.bincount((q[:, 0] * BINS + q[:, 1]) * BINS + q[:, 2], minlength=BINS**3)
    return total / total.sum()


def histogram_distance(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(0.5 * np.abs(colour_histogram(a) - colour_histogram(b)).sum())


def edge_map(image: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255, (0, 0), sigma)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def edge_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the two images' edge maps."""
    return float(np.corrcoef(edge_map(a).ravel(), edge_map(b).ravel())[0, 1])


class DomainClassifier(nn.Module):
    """Four strided convs and a global average: P(image is from domain B)."""

    def __init__(self, width: int = 16):
        super().__init__()
        layers, c = [], 3
        for k in range(4):
            layers += [nn.Conv2d(c, width * 2**min(k, 2), 3, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c = width * 2**min(k, 2)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))[:, 0]


def _tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images).astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)


def train_domain_classifier(a: list[np.ndarray], b: list[np.ndarray], steps: int = 600, crop: int = 64,
                            batch_size: int = 16, seed: int = 0) -> DomainClassifier:
    """Logistic loss on random crops, half from each collection."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xa, xb = _tensor(a), _tensor(b)
    net = DomainClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    half = batch_size // 2
    for _ in range(steps):
        r, c = (int(rng.integers(0, n - crop + 1)) for n in xa.shape[2:])
        batch = torch.cat([xa[rng.integers(0, len(xa), half)], xb[rng.integers(0, len(xb), half)]])[..., r : r + crop, c : c + crop]
        labels = torch.cat([torch.zeros(half), torch.ones(half)])
        loss = nn.functional.binary_cross_entropy_with_logits(net(batch), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return net.eval()


@torch.no_grad()
def domain_b_probability(net: DomainClassifier, images: list[np.ndarray], crop: int = 64) -> float:
    """Mean P(B) over the non-overlapping `crop` px tiles of the images (the size it was trained on)."""
    x = _tensor(images)
    tiles = [x[..., r : r + crop, c : c + crop] for r in range(0, x.shape[2] - crop + 1, crop)
             for c in range(0, x.shape[3] - crop + 1, crop)]
    return float(torch.sigmoid(net(torch.cat(tiles))).mean())
