"""Noise2Void's training example: a noisy crop with a few pixels hidden behind the blind spot.

The hidden pixels are drawn one per cell of a regular grid (stratified, as in the paper), so
they cover the crop evenly and never sit next to each other; each is replaced by the value of a
random other pixel in its `neighbourhood` x `neighbourhood` window (the paper's "uniform
neighbour" replacement), so the network cannot tell which pixels are hidden. The target is the
crop itself; `mask` (1 = hidden) tells the loss where to look.
"""

from __future__ import annotations

import numpy as np

from img2img.data.examples import ExampleMaker


class BlindSpotExamples(ExampleMaker):
    def __init__(self, config):
        model = config.model
        self.cell = max(1, round(model.masked_fraction ** -0.5))  # one hidden pixel per cell x cell square
        self.radius = model.neighbourhood // 2

    def make(self, noisy: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        noisy = np.ascontiguousarray(noisy, dtype=np.float32)
        height, width = noisy.shape[1:]
        ys, xs = self.hidden_pixels(height, width, rng)
        sy, sx = self.replacements(ys, xs, height, width, rng)
        masked = noisy.copy()
        masked[:, ys, xs] = noisy[:, sy, sx]
        mask = np.zeros((1, height, width), np.float32)
        mask[0, ys, xs] = 1.0
        return {"input": masked, "target": noisy, "mask": mask}

    def hidden_pixels(self, height: int, width: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One random pixel in every grid cell (cells at the far edges may be partial)."""
        cy, cx = np.meshgrid(np.arange(0, height, self.cell), np.arange(0, width, self.cell), indexing="ij")
        ys = cy.ravel() + rng.integers(0, self.cell, cy.size)
        xs = cx.ravel() + rng.integers(0, self.cell, cx.size)
        inside = (ys < height) & (xs < width)
        return ys[inside], xs[inside]

    def replacements(self, ys: np.ndarray, xs: np.ndarray, height: int, width: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A random other pixel in each hidden pixel's window, mirrored back inside the image."""
        side = 2 * self.radius + 1
        offsets = rng.integers(0, side * side - 1, ys.size)
        offsets += offsets >= (side * side) // 2  # skip the centre: never the pixel itself
        dy, dx = offsets // side - self.radius, offsets % side - self.radius
        return _mirror(ys + dy, height), _mirror(xs + dx, width)


def _mirror(index: np.ndarray, size: int) -> np.ndarray:
    """Reflect indices that fall off either edge back inside (-1 -> 1, size -> size - 2)."""
    index = np.abs(index)
    return np.where(index >= size, 2 * (size - 1) - index, index).clip(0, size - 1)
