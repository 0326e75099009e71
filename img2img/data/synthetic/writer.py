"""Write a synthetic data set to disk: images/ and masks/ (or targets/) paired by file stem.

Image i is drawn from `np.random.default_rng([seed, i])`, so any single image can be
reproduced on its own and a larger `n` keeps the earlier images unchanged. Each file
is written atomically (`img2img.io.write_image`), so an interrupted run never leaves a
truncated image that looks complete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from img2img.data.synthetic.cells import render_cells
from img2img.data.synthetic.common import SMALLEST_SIDE, check_empty, maybe_track
from img2img.data.synthetic.denoise import render_denoising
from img2img.data.synthetic.filaments import render_filaments
from img2img.data.synthetic.fins import render_fins
from img2img.data.synthetic.larvae import write_larvae_dataset
from img2img.data.synthetic.nuclei3d import CALIBRATION as NUCLEI3D_CALIBRATION
from img2img.data.synthetic.nuclei3d import render_nuclei_3d
from img2img.data.synthetic.photos import write_photos_dataset
from img2img.errors import UserError
from img2img.io.images import write_image

# (image, instance labels) generators, written to images/ + masks/
GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {"cells": render_cells, "fins": render_fins}
# (ZYX stack, 3D instance labels) generators and the calibration written with them, to images/ + masks/
STACK_GENERATORS = {"nuclei3d": (render_nuclei_3d, NUCLEI3D_CALIBRATION)}
# (input image, target image) generators, written to images/ + targets/
PAIR_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "denoise": render_denoising, "filaments": render_filaments}
IMAGE_SUFFIX = {"cells": ".tif", "fins": ".png", "denoise": ".tif", "filaments": ".tif", "nuclei3d": ".tif"}
TARGET_FOLDER = {"cells": "masks", "fins": "masks", "denoise": "targets", "filaments": "targets",
                 "nuclei3d": "masks"}  # label masks, or clean images
# Two unmatched domains for CycleGAN: larvae sim/ and real/ (each image with a .json of positions),
# photos photo/ and painting/ (RGB PNG)
UNPAIRED_KINDS = ("larvae", "photos")


def write_synthetic_dataset(
    kind: str,
    output: Path | str,
    n: int,
    seed: int = 0,
    size: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """Render `n` images of `kind` into `output/images` and their labels into `output/masks`
    (denoise, filaments: the clean images into `output/targets`).

    Cells, denoise and filaments are written as 16-bit TIFF, fins as 8-bit RGB PNG; masks and targets
    are uint16 TIFF with the same stem. `size` makes every image `size` x `size`; by default each side is
    drawn in 256..1024. Returns the image paths in order.
    """
    render = {**GENERATORS, **PAIR_GENERATORS, **{k: g for k, (g, _) in STACK_GENERATORS.items()}}.get(kind)
    if render is None and kind not in UNPAIRED_KINDS:
        choices = ", ".join([*GENERATORS, *PAIR_GENERATORS, *STACK_GENERATORS, *UNPAIRED_KINDS])
        raise UserError(f"unknown synthetic data kind {kind!r}; choose one of: {choices}")
    if n < 1:
        raise UserError(f"number of synthetic images must be at least 1, got {n}")
    if size is not None and size < SMALLEST_SIDE:
        raise UserError(f"synthetic image size must be at least {SMALLEST_SIDE} px, got {size}")
    if kind == "larvae":
        return write_larvae_dataset(output, n, seed=seed, size=size, progress=progress)
    if kind == "photos":
        return write_photos_dataset(output, n, seed=seed, size=size, progress=progress)
    output = Path(output)
    images_dir, masks_dir = output / "images", output / TARGET_FOLDER[kind]
    for folder in (images_dir, masks_dir):
        check_empty(folder)
    images_dir.mkdir(parents=True, exist_ok=True)
    masks_dir.mkdir(parents=True, exist_ok=True)

    shape = None if size is None else (size, size)
    written = []
    for i in maybe_track(range(n), f"Writing {n} synthetic {kind} images", progress):
        image, labels = render(np.random.default_rng([seed, i]), shape)
        stem = f"{kind}_{i:04d}"
        image_path = images_dir / f"{stem}{IMAGE_SUFFIX[kind]}"
        # Mask (target) first: an interrupted run leaves at most a mask without its image,
        # which pairing reports by name, never an image that looks unlabelled.
        if kind in STACK_GENERATORS:
            calibration = STACK_GENERATORS[kind][1]
            write_image(masks_dir / f"{stem}.tif", labels, axes="ZYX", resolution=calibration, kind="labels")
            write_image(image_path, image, axes="ZYX", resolution=calibration)
        else:
            write_image(masks_dir / f"{stem}.tif", labels)
            write_image(image_path, image, axes="YXC" if image.ndim == 3 else "YX")
        written.append(image_path)
    return written


def summary(kind: str, output: Path, n: int) -> str:
    """What `write_synthetic_dataset` wrote, in one line for the CLI."""
    output = Path(output)
    if kind == "larvae":
        return f"wrote {n} clean renders to {output / 'sim'} and {n} realistic ones to {output / 'real'} (positions in .json)"
    if kind == "photos":
        return f"wrote {n} photos to {output / 'photo'} and {n} paintings of other scenes to {output / 'painting'}"
    return f"wrote {n} images to {output / 'images'} and {TARGET_FOLDER[kind]} to {output / TARGET_FOLDER[kind]}"
