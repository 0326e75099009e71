"""Simulated larva recordings for sim-to-real CycleGAN: a clean render with known positions and a
realistic-looking render of other scenes standing in for real recordings.

A scene is a circular arena (agar dish) seen from above with a few crawling larvae: curved,
tapered bodies with segment bands, a narrower head with dark mouth hooks and a blunt tail. The
"sim" render is what a simple simulator draws: flat arena, flat shading, sharp, noise-free. The
"real" render of *other* scenes adds what a camera and a dish add: agar texture, uneven
illumination, translucent bodies with gut contents, a dish rim, vignetting, defocus blur and
shot + read noise. Both come with every larva's head, tail, centre and skeleton, so a detector
can be scored on either.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from img2img.data.synthetic.noise import fractal_field, smooth_curve, smooth_field

DEFAULT_SIZE = 256
COUNT = (3, 8)  # larvae per scene
LENGTH = (0.14, 0.26)  # body length as a share of the image side
ASPECT = (0.08, 0.12)  # maximum half-width / length
SEGMENTS = 11  # body segments (3 thoracic + 8 abdominal), drawn as bands
POINTS = 25  # skeleton points from head to tail


@dataclass
class Larva:
    skeleton: np.ndarray  # (POINTS, 2) x, y from head to tail
    half_width: float  # at the widest point, px
    darkness: float  # 0..1, how strongly the body absorbs light

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.skeleton, axis=0), axis=1).sum())

    def as_json(self) -> dict:
        xy = lambda p: [round(float(p[0]), 2), round(float(p[1]), 2)]  # noqa: E731
        return {
            "head": xy(self.skeleton[0]), "tail": xy(self.skeleton[-1]), "centre": xy(self.skeleton[POINTS // 2]),
            "skeleton": [xy(p) for p in self.skeleton],
            "length_px": round(self.length, 2), "half_width_px": round(self.half_width, 2),
        }


@dataclass
class Scene:
    size: int
    arena: tuple[float, float, float]  # centre x, y and radius, px
    larvae: list[Larva]
    body: np.ndarray  # (H, W) float32, 1 inside a body, smooth at the edge
    band: np.ndarray  # (H, W) float32, segment-band pattern along each body, 0..1
    shading: np.ndarray  # (H, W) float32, 0 at the body edge .. 1 on the midline
    head: np.ndarray  # (H, W) float32, mouth hooks and tail spiracles, 0..1


def render_larvae(rng: np.random.Generator, size: int = DEFAULT_SIZE, realistic: bool = False,
                  bit_depth: int = 8) -> tuple[np.ndarray, dict]:
    """One scene as a single-channel uint8 (or uint16) image and its ground truth:
    {"height", "width", "coordinates", "arena", "larvae": [{head, tail, centre, skeleton, ...}]}."""
    scene = random_scene(rng, size)
    image = _real(rng, scene) if realistic else _sim(scene)
    top = 255 if bit_depth == 8 else 65535
    pixels = np.clip(np.rint(image * top), 0, top).astype(np.uint8 if bit_depth == 8 else np.uint16)
    cx, cy, r = scene.arena
    truth = {
        "height": size, "width": size, "coordinates": "x = column, y = row, pixels from the top-left corner",
        "arena": {"centre": [round(cx, 2), round(cy, 2)], "radius": round(r, 2)},
        "larvae": [larva.as_json() for larva in scene.larvae],
    }
    return pixels, truth


def random_scene(rng: np.random.Generator, size: int = DEFAULT_SIZE) -> Scene:
    """Arena and non-overlapping larvae inside it, with their drawing maps."""
    radius = size * rng.uniform(0.42, 0.5)
    centre = size / 2 + rng.uniform(-0.04, 0.04, 2) * size
    arena = (float(centre[0]), float(centre[1]), float(radius))
    shape = (size, size)
    body, band, shading, head = (np.zeros(shape, np.float32) for _ in range(4))
    occupied = np.zeros(shape, np.uint8)
    larvae = []
    for _ in range(int(rng.integers(COUNT[0], COUNT[1] + 1))):
        for _attempt in range(30):
            larva = _random_larva(rng, size, arena)
            mask, t_map = _draw_body(larva, shape)
            if not (mask & occupied).any():
                break
        else:
            continue  # the arena is full
        occupied |= cv2.dilate(mask, np.ones((5, 5), np.uint8))
        inside = mask.astype(bool)
        edge = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
        shading[inside] = np.clip(edge[inside] / max(larva.half_width, 1.0), 0, 1)
        band[inside] = 0.5 + 0.5 * np.cos(2 * np.pi * SEGMENTS * t_map[inside])
        body[inside] = larva.darkness
        _draw_ends(larva, head)
        larvae.append(larva)
    soft = cv2.GaussianBlur(body, (0, 0), 0.6)  # anti-aliased outline
    return Scene(size, arena, larvae, soft, band, shading, head)


def _random_larva(rng: np.random.Generator, size: int, arena: tuple[float, float, float]) -> Larva:
    """A smooth random crawling pose: C or S bends up to about 120 degrees, any heading."""
    length = size * rng.uniform(*LENGTH)
    step = length / (POINTS - 1)
    bend = rng.uniform(0.0, 2.2) * smooth_curve(rng, POINTS, rng.uniform(8, 30)) / POINTS
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(bend + rng.normal(0, 0.3) / POINTS)
    steps = step * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    points = np.vstack([[0.0, 0.0], np.cumsum(steps[:-1], axis=0)])
    cx, cy, r = arena
    angle, reach = rng.uniform(0, 2 * np.pi), (r - 0.6 * length) * np.sqrt(rng.uniform())
    where = np.array([cx + reach * np.cos(angle), cy + reach * np.sin(angle)])
    points += where - points[POINTS // 2]
    return Larva(points.astype(np.float32), float(length * rng.uniform(*ASPECT)), float(rng.uniform(0.55, 0.9)))


def _half_widths(larva: Larva, t: np.ndarray) -> np.ndarray:
    """Tapered to a narrow head (t = 0) and a blunter tail (t = 1)."""
    profile = np.sin(np.pi * (0.06 + 0.88 * t)) ** 0.5 * (0.7 + 0.3 * np.minimum(1.0, 2 * t))
    return larva.half_width * np.maximum(profile, 0.25)


def _draw_body(larva: Larva, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Body mask (uint8) and, inside it, the position t (0 head .. 1 tail) along the body."""
    dense = int(max(8, 3 * larva.length))
    t = np.linspace(0, 1, dense)
    xy = np.stack([np.interp(t, np.linspace(0, 1, POINTS), larva.skeleton[:, k]) for k in range(2)], axis=1)
    widths = _half_widths(larva, t)
    mask = np.zeros(shape, np.uint8)
    t_map = np.zeros(shape, np.float32)
    for (x, y), w, tk in zip(xy, widths, t):
        centre = (int(round(x * 4)), int(round(y * 4)))  # 2 fractional bits: smooth outlines
        radius = max(1, int(round(w * 4)))
        cv2.circle(mask, centre, radius, 1, -1, lineType=cv2.LINE_8, shift=2)
        cv2.circle(t_map, centre, radius, float(tk), -1, lineType=cv2.LINE_8, shift=2)
    return mask, t_map


def _draw_ends(larva: Larva, head: np.ndarray) -> None:
    """Dark mouth hooks just behind the head tip and two small spiracles at the tail."""
    s = larva.skeleton
    towards = (s[1] - s[0]) / (np.linalg.norm(s[1] - s[0]) + 1e-6)
    hooks = s[0] + towards * 0.6 * larva.half_width
    cv2.circle(head, tuple(int(v) for v in np.rint(hooks)), max(1, int(round(0.35 * larva.half_width))), 1.0, -1)
    back = (s[-2] - s[-1]) / (np.linalg.norm(s[-2] - s[-1]) + 1e-6)
    side = np.array([-back[1], back[0]])
    for sign in (-1, 1):
        spot = s[-1] + back * 0.7 * larva.half_width + sign * side * 0.3 * larva.half_width
        cv2.circle(head, tuple(int(v) for v in np.rint(spot)), max(1, int(round(0.15 * larva.half_width))), 0.7, -1)


def _arena_distance(scene: Scene) -> np.ndarray:
    """Signed distance from the arena edge, px (negative inside)."""
    cx, cy, r = scene.arena
    y, x = np.mgrid[: scene.size, : scene.size].astype(np.float32)
    return np.hypot(x - cx, y - cy) - r


def _sim(scene: Scene) -> np.ndarray:
    """What a plain simulator draws: flat arena, flat bodies with bands, sharp, no noise."""
    inside = np.clip(0.5 - _arena_distance(scene), 0, 1)  # one-pixel anti-aliased edge
    background = 0.3 + 0.5 * inside
    larva = 0.42 - 0.08 * scene.band - 0.08 * scene.shading
    image = background * (1 - scene.body) + larva * scene.body
    return np.clip(image * (1 - 0.6 * scene.head), 0, 1).astype(np.float32)


def _real(rng: np.random.Generator, scene: Scene) -> np.ndarray:
    """A camera view of an agar dish: transmitted light through textured agar and translucent
    bodies, a rim, vignetting, defocus and noise, in [0, 1]."""
    shape = (scene.size, scene.size)
    d = _arena_distance(scene)
    agar = 0.72 + 0.05 * fractal_field(rng, shape, (60.0, 16.0, 4.0))
    outside = 0.28 + 0.04 * smooth_field(rng, shape, 30.0)
    rim_width = rng.uniform(3.0, 7.0)
    inside = 1 / (1 + np.exp(np.clip(d / 1.5, -30, 30)))
    background = outside + (agar - outside) * inside
    background += 0.18 * np.exp(-((d - rim_width / 2) / (rim_width / 2)) ** 2)  # bright rim highlight
    background -= 0.12 * np.exp(-((d + rim_width) / rim_width) ** 2)  # meniscus shadow inside it

    # Translucent bodies: absorb light, darker along the midline, stronger bands, gut contents.
    gut = np.clip(0.5 + 0.5 * fractal_field(rng, shape, (10.0, 3.0)), 0, 1)
    absorb = scene.body * (0.25 + 0.3 * scene.shading + 0.15 * scene.band + 0.25 * gut * scene.shading ** 2)
    image = background * (1 - np.clip(absorb, 0, 0.9)) * (1 - 0.5 * scene.head)

    # Uneven illumination and vignetting.
    cy = cx = scene.size / 2
    y, x = np.mgrid[: scene.size, : scene.size].astype(np.float32)
    r2 = ((x - cx) ** 2 + (y - cy) ** 2) / (scene.size / 2) ** 2
    gradient = rng.uniform(-0.15, 0.15, 2)
    light = (1 + 0.12 * smooth_field(rng, shape, scene.size / 2) + gradient[0] * (x / scene.size - 0.5)
             + gradient[1] * (y / scene.size - 0.5)) * (1 - rng.uniform(0.2, 0.4) * r2)
    image = cv2.GaussianBlur((image * light).astype(np.float32), (0, 0), rng.uniform(0.8, 1.8))

    # Camera: shot noise at a modest exposure plus read noise, with a small offset.
    electrons = rng.uniform(150, 400)
    counts = rng.poisson(np.clip(image, 0, None) * electrons) + rng.normal(0, 3.0, shape)
    return np.clip(0.03 + counts / electrons * 0.95, 0, 1).astype(np.float32)


def write_larvae_dataset(output, n: int, seed: int = 0, size: int | None = None, bit_depth: int = 8,
                         progress: bool = True) -> list:
    """`output/sim/larvae_NNNN.tif` clean renders and `output/real/larvae_NNNN.tif` realistic
    renders of *other* scenes, each with a `.json` of the larvae's positions beside it.

    Scene i of sim is drawn from `default_rng([seed, i, 0])`, of real from `[seed, i, 1]`, so the
    two folders never show the same scene (as with real recordings) and each file is reproducible
    on its own. Returns the sim image paths.
    """
    import json
    from pathlib import Path

    from img2img.data.synthetic.common import check_empty, maybe_track
    from img2img.errors import UserError
    from img2img.io.atomic import atomic_path
    from img2img.io.images import write_image

    if bit_depth not in (8, 16):
        raise UserError(f"larvae bit depth {bit_depth}: use 8 or 16")
    output = Path(output)
    folders = {"sim": output / "sim", "real": output / "real"}
    for folder in folders.values():
        check_empty(folder)
    written = []
    for i in maybe_track(range(n), f"Writing {n} simulated and {n} realistic larva scenes", progress):
        for realistic, (domain, folder) in enumerate(folders.items()):
            image, truth = render_larvae(np.random.default_rng([seed, i, realistic]), size or DEFAULT_SIZE,
                                         realistic=bool(realistic), bit_depth=bit_depth)
            stem = f"larvae_{i:04d}"
            truth = {"image": f"{stem}.tif", "domain": domain, **truth}
            with atomic_path(folder / f"{stem}.json") as tmp:  # positions first, like masks
                tmp.write_text(json.dumps(truth, indent=1))
            path = write_image(folder / f"{stem}.tif", image, axes="YX")
            if not realistic:
                written.append(path)
    return written
