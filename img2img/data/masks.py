"""Hole masks (1 = fill, 0 = known) for inpainting.

Training: free-form brush strokes (DeepFill v2: 1-3 random-walk strokes, 12-40 px wide at 256 px)
and boxes, drawn fresh for every crop, so the model learns holes of any shape rather than
the one kind it will meet. Sizes are in pixels, not shares of the crop, so holes in training
crops are as large as the holes met in whole images. Inference: a mask file, or a rule for what microscopes get wrong:
saturated pixels, zero pixels (stitching gaps, masked-out areas) and dead detector rows/columns.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from img2img.config.schema import MaskConfig
from img2img.errors import UserError

MASK_RULES = ("saturated", "zero", "dead-lines")


def random_mask(shape: tuple[int, int], config: MaskConfig, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 hole mask: strokes, or a box, or both, as the config's probabilities say."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    kinds = rng.random()
    if kinds < config.box_probability:
        draw_box(mask, config, rng)
    if kinds >= config.box_probability or rng.random() < config.both_probability:
        draw_strokes(mask, config, rng)
    return mask.astype(np.float32)


def draw_strokes(mask: np.ndarray, config: MaskConfig, rng: np.random.Generator) -> None:
    """Random-walk brush strokes: 4-12 segments of 10-40 px each, round joints, widths in `stroke_width`."""
    h, w = mask.shape
    unit = 1.0
    for _ in range(int(rng.integers(config.strokes[0], config.strokes[1] + 1))):
        width = max(1, int(round(rng.uniform(*config.stroke_width) * unit)))
        y, x = rng.uniform(0, h), rng.uniform(0, w)
        angle = rng.uniform(0, 2 * math.pi)
        for _ in range(int(rng.integers(4, 13))):
            angle += rng.uniform(-math.pi / 3, math.pi / 3)
            length = rng.uniform(10, 40) * unit
            ny = float(np.clip(y + length * math.sin(angle), 0, h - 1))
            nx = float(np.clip(x + length * math.cos(angle), 0, w - 1))
            cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 1, width)
            cv2.circle(mask, (int(nx), int(ny)), width // 2, 1, -1)
            y, x = ny, nx


def draw_box(mask: np.ndarray, config: MaskConfig, rng: np.random.Generator) -> None:
    """One rectangle with sides in `box_size` pixels (at most the image's)."""
    h, w = mask.shape
    bh = min(h, max(1, int(rng.uniform(*config.box_size))))
    bw = min(w, max(1, int(rng.uniform(*config.box_size))))
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    mask[top : top + bh, left : left + bw] = 1


def parse_rules(text: str | None) -> tuple[str, ...]:
    """'saturated,dead-lines' -> ('saturated', 'dead-lines'), checked."""
    if not text:
        return ()
    rules = tuple(r.strip() for r in text.split(",") if r.strip())
    bad = [r for r in rules if r not in MASK_RULES]
    if bad:
        raise UserError(f"--mask-rule {text}: unknown rule '{bad[0]}'; use one or more of {', '.join(MASK_RULES)}")
    return rules


def rule_mask(plane: np.ndarray, rules: tuple[str, ...]) -> np.ndarray:
    """(H, W) bool mask of one (C, H, W) plane's pixels that the rules mark as bad (any channel).

    saturated: at the pixel type's maximum (floats: at the image's maximum, when it is repeated);
    zero: exactly 0; dead-lines: rows or columns constant along their whole length (a dead
    detector line or a stitching seam reads one value)."""
    plane = np.asarray(plane)
    mask = np.zeros(plane.shape[1:], bool)
    for rule in rules:
        if rule == "saturated":
            top = np.iinfo(plane.dtype).max if plane.dtype.kind in "ui" else np.nanmax(plane)
            at_top = (plane >= top).any(0)
            if plane.dtype.kind in "ui" or at_top.sum() > 1:
                mask |= at_top
        elif rule == "zero":
            mask |= (plane == 0).any(0)
        elif rule == "dead-lines":
            rows = (plane == plane[:, :, :1]).all(axis=(0, 2))
            cols = (plane == plane[:, :1, :]).all(axis=(0, 1))
            if plane.shape[2] > 1:
                mask[rows] = True
            if plane.shape[1] > 1:
                mask[:, cols] = True
    return mask
