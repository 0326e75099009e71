"""Image grids (input | output | target) written during training, to watch a model learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.io.images import write_image


def to_rgb8(x: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, 3) uint8; a 2-channel segmentation encoding shows
    foreground in red and the centre map in green/blue."""
    c = x.shape[0]
    if c == 1:
        rgb = np.repeat(x, 3, axis=0)
    elif c == 2:
        rgb = np.stack([x[0], x[1], x[1]])
    else:
        rgb = x[:3]
    return (np.clip((rgb.transpose(1, 2, 0) + 1) / 2, 0, 1) * 255).astype(np.uint8)


def sample_grid(rows: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """(H, W, 3) uint8: one row per sample, panels side by side, a 4 px gap; rows are padded to a common width."""
    images = [[to_rgb8(panel) for panel in row] for row in rows]
    gap = 4
    strips = [np.concatenate(_with_gaps(row, gap, axis=1), axis=1) for row in images]
    width = max(s.shape[1] for s in strips)
    strips = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in strips]
    return np.concatenate(_with_gaps(strips, gap, axis=0), axis=0)


def write_sample_grid(path: Path, rows: list[tuple[np.ndarray, ...]]) -> Path:
    return write_image(path, sample_grid(rows), axes="YXC")


def _with_gaps(panels: list[np.ndarray], gap: int, axis: int) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for i, panel in enumerate(panels):
        if i:
            shape = list(panel.shape)
            shape[axis] = gap
            if axis == 1:
                shape[0] = panel.shape[0]
            out.append(np.full(shape, 255, np.uint8))
        out.append(panel)
    return out
