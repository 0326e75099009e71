"""Unpaired photo <-> painting data made at run time (nothing downloaded, no licences).

A scene is a landscape-like arrangement: a sky gradient over ground with a wavy horizon and a
few lit shapes (discs, boxes, triangles) with their own colours. A "photo" renders it with
smooth shading, fine texture and sensor noise. A "painting" renders *other* scenes of the same
kind as a painter would: brush strokes (each region smoothed along a slowly turning stroke
direction, with streaky stroke texture), a posterized palette and dark outlines along edges.
The two folders never show the same scene, as with two real photo collections; `render_photo`
and `render_painting` of one scene give the pair that evaluation compares against.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from img2img.data.synthetic.noise import fractal_field, smooth_field

DEFAULT_SIZE = 256
SHAPES = (3, 7)
LEVELS = 5  # posterized levels per colour channel in paintings
STROKE_ANGLES = 8  # brush directions the painter uses


@dataclass
class PhotoScene:
    colour: np.ndarray  # (H, W, 3) float32 albedo in 0..1, flat per region
    light: np.ndarray  # (H, W) float32 shading, about 0.6..1.2
    texture: np.ndarray  # (H, W) float32 zero-mean fine texture


def random_photo_scene(rng: np.random.Generator, size: int = DEFAULT_SIZE) -> PhotoScene:
    h = w = size
    y, x = np.mgrid[:h, :w].astype(np.float32) / size
    top, low = rng.uniform(0.3, 1.0, 3), rng.uniform(0.5, 1.0, 3)
    colour = (top[None, None] * (1 - y[..., None]) + low[None, None] * y[..., None]).astype(np.float32)
    horizon = rng.uniform(0.35, 0.65) + 0.06 * smooth_field(rng, (1, w), size / 3)[0]
    ground = y > horizon[None, :]
    colour[ground] = np.clip(rng.uniform(0.1, 0.8, 3) + 0.08 * smooth_field(rng, (h, w), size / 4)[ground][:, None], 0, 1)
    light = 1.0 + 0.15 * smooth_field(rng, (h, w), size / 2)
    for _ in range(int(rng.integers(SHAPES[0], SHAPES[1] + 1))):
        mask = _shape_mask(rng, size)
        c = rng.uniform(0.05, 0.95, 3)
        colour[mask > 0] = c
        angle = rng.uniform(0, 2 * np.pi)  # light from one side: a shading gradient across the shape
        ramp = 1.0 + 0.35 * ((x - x[mask > 0].mean()) * np.cos(angle) + (y - y[mask > 0].mean()) * np.sin(angle)) * 4
        light = np.where(mask > 0, np.clip(ramp, 0.55, 1.3), light)
    texture = fractal_field(rng, (h, w), (6.0, 2.0, 1.0))
    return PhotoScene(colour, light.astype(np.float32), texture)


def _shape_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    centre = rng.uniform(0.15, 0.85, 2) * size
    r = rng.uniform(0.06, 0.18) * size
    kind = rng.integers(3)
    if kind == 0:
        axes = (int(r), int(r * rng.uniform(0.5, 1.0)))
        cv2.ellipse(mask, tuple(int(v) for v in centre), axes, rng.uniform(0, 180), 0, 360, 1, -1, cv2.LINE_AA)
    else:
        n = 4 if kind == 1 else 3
        angles = rng.uniform(0, 2 * np.pi) + np.arange(n) * 2 * np.pi / n + rng.uniform(-0.3, 0.3, n)
        points = centre + r * np.stack([np.cos(angles), np.sin(angles)], 1)
        cv2.fillPoly(mask, [np.rint(points).astype(np.int32)], 1, cv2.LINE_AA)
    return mask


def render_photo(rng: np.random.Generator, scene: PhotoScene) -> np.ndarray:
    """Smooth shading, fine texture, slight defocus and sensor noise; uint8 RGB."""
    image = scene.colour * scene.light[..., None] * (1 + 0.06 * scene.texture[..., None])
    image = cv2.GaussianBlur(image.astype(np.float32), (0, 0), 0.7)
    image = image + rng.normal(0, 0.012, image.shape)
    return _to_uint8(image)


def render_painting(rng: np.random.Generator, scene: PhotoScene) -> np.ndarray:
    """Brush strokes along a slowly turning direction, a posterized palette, dark outlines; uint8 RGB."""
    size = scene.colour.shape[0]
    base = scene.colour * (0.85 + 0.3 * (scene.light[..., None] - 1))  # flatter shading than a photo
    # Strokes: smooth along one of STROKE_ANGLES directions, chosen per pixel by a slow field.
    direction = np.floor((smooth_field(rng, (size, size), size / 3) * 0.8 + 4) % STROKE_ANGLES).astype(int)
    length = max(5, size // 16) | 1
    streaks = rng.uniform(-1, 1, (size, size)).astype(np.float32)
    painted = np.zeros_like(base)
    stroke = np.zeros((size, size), np.float32)
    for k in range(STROKE_ANGLES):
        kernel = _line_kernel(length, np.pi * k / STROKE_ANGLES)
        where = direction == k
        painted[where] = cv2.filter2D(base.astype(np.float32), -1, kernel)[where]
        stroke[where] = cv2.filter2D(streaks, -1, kernel)[where]
    painted = painted * (1 + 0.25 * stroke[..., None])
    poster = np.round(np.clip(painted, 0, 1) * (LEVELS - 1)) / (LEVELS - 1)
    grey = cv2.GaussianBlur(cv2.cvtColor(scene.colour.astype(np.float32), cv2.COLOR_RGB2GRAY), (0, 0), 1.0)
    edges = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    outline = np.clip(edges / 0.25, 0, 1)
    return _to_uint8(poster * (1 - 0.6 * outline[..., None]))


def _line_kernel(length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    c, r = length // 2, length / 2
    cv2.line(kernel, (int(round(c - r * np.cos(angle))), int(round(c - r * np.sin(angle)))),
             (int(round(c + r * np.cos(angle))), int(round(c + r * np.sin(angle)))), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def render_pair(rng: np.random.Generator, size: int = DEFAULT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """One scene as a photo and as a painting (for evaluation: what a perfect translation gives)."""
    scene = random_photo_scene(rng, size)
    return render_photo(rng, scene), render_painting(rng, scene)


def write_photos_dataset(output, n: int, seed: int = 0, size: int | None = None, progress: bool = True) -> list:
    """`output/photo/photo_NNNN.png` and `output/painting/painting_NNNN.png` of *different* scenes:
    photo i from `default_rng([seed, i, 0])`, painting i from `[seed, i, 1]`. Returns the photo paths."""
    from pathlib import Path

    from img2img.data.synthetic.common import check_empty, maybe_track
    from img2img.io.images import write_image

    output = Path(output)
    folders = {"photo": output / "photo", "painting": output / "painting"}
    for folder in folders.values():
        check_empty(folder)
    written = []
    for i in maybe_track(range(n), f"Writing {n} photos and {n} paintings", progress):
        for k, (domain, folder) in enumerate(folders.items()):
            rng = np.random.default_rng([seed, i, k])
            scene = random_photo_scene(rng, size or DEFAULT_SIZE)
            image = render_painting(rng, scene) if k else render_photo(rng, scene)
            path = write_image(folder / f"{domain}_{i:04d}.png", image, axes="YXC")
            if not k:
                written.append(path)
    return written
