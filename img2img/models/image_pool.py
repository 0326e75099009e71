"""History of generated images for CycleGAN's discriminators (Shrivastava et al. 2017).

A discriminator that only sees the generator's latest output can chase it round in circles;
showing it a mix of current and older fakes damps that oscillation. Reference behaviour: until
the pool is full every new image is stored and returned; afterwards each new image is, with
probability 1/2, returned as is, or swapped for a random stored one (which it replaces).
"""

from __future__ import annotations

import torch


class ImagePool:
    def __init__(self, size: int = 50):
        self.size = size
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def state_dict(self) -> dict:
        return {"size": self.size, "images": [image.cpu() for image in self.images]}

    def load_state_dict(self, state: dict) -> None:
        """Stored images stay on the CPU until the next query moves them to its device."""
        self.size, self.images = int(state["size"]), list(state["images"])

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """A batch of the same shape as `images` (N, C, H, W), drawn as above; gradients are cut."""
        images = images.detach()
        if self.size == 0:
            return images
        if self.images and self.images[0].device != images.device:
            self.images = [image.to(images.device) for image in self.images]
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()).item() < 0.5:
                k = int(torch.randint(len(self.images), ()).item())
                out.append(self.images[k])
                self.images[k] = image.clone()
            else:
                out.append(image)
        # Patches of one run share a size; mixing sizes (not done in training) would fail here.
        return torch.stack(out)
