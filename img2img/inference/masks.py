"""Where an inpainting model fills: a mask file per image (`--mask FOLDER`, matched by file
name without suffix, nonzero = fill), a rule (`--mask-rule saturated,zero,dead-lines`), or both
joined. Sizes must match the image pixel for pixel; a mismatch names both files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.data.masks import parse_rules, rule_mask
from img2img.errors import UserError
from img2img.io.axes import canonical_axes
from img2img.io.images import image_stem, list_images, read_image


class HoleMasks:
    def __init__(self, mask_dir: Path | None, mask_rule: str | None, needed: bool):
        self.needed = needed
        self.rules = parse_rules(mask_rule)
        self.mask_dir = Path(mask_dir) if mask_dir is not None else None
        if not needed and (self.rules or self.mask_dir is not None):
            raise UserError("--mask/--mask-rule: only inpainting models take masks; this model does not")
        self._files: dict[str, Path] | None = None

    def from_file(self, source: Path | None, shape: tuple[int, ...], axes: str) -> np.ndarray | None:
        """The (Y, X) mask for image file `source`, or None when masks come from rules only."""
        if self.mask_dir is None:
            return None
        if self._files is None:
            self._files = {image_stem(p): p for p in list_images(self.mask_dir)}
        stem = image_stem(source) if source is not None else None
        if stem not in self._files:
            raise UserError(f"{self.mask_dir}: no mask named {stem}.* for {source}; add it (nonzero = fill) or use --mask-rule")
        path = self._files[stem]
        data = np.asarray(read_image(path).data)
        mask = data.any(axis=-1) if data.ndim == 3 and data.shape[-1] in (3, 4) else np.squeeze(data)
        axes = canonical_axes(axes)
        size = (shape[axes.index("Y")], shape[axes.index("X")])
        if mask.shape != size:
            raise UserError(f"{path}: mask is {'x'.join(map(str, mask.shape))} but its image {Path(source).name} is "
                            f"{size[0]}x{size[1]}; masks must match their images pixel for pixel")
        return mask != 0

    def for_plane(self, plane: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """(H, W) bool holes of one (C, H, W) plane: the given mask joined with the rules."""
        size = plane.shape[1:]
        if mask is not None:
            mask = np.asarray(mask) != 0
            if mask.shape != size:
                raise UserError(f"mask is {'x'.join(map(str, mask.shape))} but the image is {size[0]}x{size[1]}; "
                                "masks must match their images pixel for pixel")
        elif not self.rules:
            raise UserError("inpainting needs a mask: give --mask FOLDER (same file names, nonzero = fill) "
                            "or --mask-rule saturated,zero,dead-lines")
        holes = np.zeros(size, bool) if mask is None else mask.copy()
        if self.rules:
            holes |= rule_mask(plane, self.rules)
        return holes
