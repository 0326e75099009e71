"""File > Open Sample > img2img: the project's synthetic data, made on the fly (nothing is
downloaded), so a new user can try every widget before opening their own images."""

from __future__ import annotations

import numpy as np

from img2img.data.synthetic import render_cells, render_fins, render_larvae

SEED = 7


def nuclei_sample() -> list[tuple]:
    """A 16-bit fluorescence image of nuclei and their instance masks."""
    image, labels = render_cells(np.random.default_rng(SEED), (512, 512))
    return [(image, {"name": "nuclei"}, "image"), (labels, {"name": "nuclei_masks", "opacity": 0.5}, "labels")]


def nuclei_stack_sample(planes: int = 5) -> list[tuple]:
    """A stack of nuclei planes (independent scenes) with masks, to try stack processing."""
    rng = np.random.default_rng(SEED)
    pairs = [render_cells(rng, (256, 256)) for _ in range(planes)]
    stack = np.stack([p[0] for p in pairs])
    masks = np.stack([p[1] for p in pairs])
    return [(stack, {"name": "nuclei_stack"}, "image"),
            (masks, {"name": "nuclei_stack_masks", "opacity": 0.5}, "labels")]


def larvae_sample() -> list[tuple]:
    """One larva arena drawn twice, clean (simulated) and camera-like (realistic), with the
    known larva centres as points: the two domains of the sim-to-real CycleGAN."""
    simulated, truth = render_larvae(np.random.default_rng(SEED), realistic=False)
    realistic, _ = render_larvae(np.random.default_rng(SEED), realistic=True)
    centres = np.array([[larva["centre"][1], larva["centre"][0]] for larva in truth["larvae"]], float)
    return [
        (simulated, {"name": "larvae_simulated"}, "image"),
        (realistic, {"name": "larvae_realistic", "visible": False}, "image"),
        (centres.reshape(-1, 2), {"name": "larva_centres", "size": 8, "face_color": "magenta"}, "points"),
    ]


def photo_pair_sample() -> list[tuple]:
    """An RGB sea photo with dolphin fins and the fins' mask (the dolphin segmentation task)."""
    photo, labels = render_fins(np.random.default_rng(SEED), (384, 512))
    return [(photo, {"name": "dolphin_photo", "rgb": True}, "image"),
            (labels, {"name": "dolphin_masks", "opacity": 0.5}, "labels")]
