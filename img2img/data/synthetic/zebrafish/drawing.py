"""The dish and the larvae as a camera sees them from above, lit from below.

Light passes the dish (bright in the middle, darker towards the wall, a dark rim outside, static
mottling and debris) and is partly absorbed by each larva: two dark eyes, a dark swim bladder, a
faint head and a thin faint tail that swings while the larva moves. Larvae are drawn at four
times the resolution in a window around each and shrunk by area averaging, so their edges are
soft at any position, as a camera's are. Blur and noise come last.
"""

from __future__ import annotations

import cv2
import numpy as np

from img2img.data.synthetic.noise import fractal_field, smooth_curve
from img2img.data.synthetic.zebrafish.rig import Rig

SUPER = 4  # supersampling of the larva windows
TAIL_SEGMENTS = 24


def dish_light(rng: np.random.Generator, rig: Rig) -> tuple[np.ndarray, np.ndarray, float]:
    """(light through the empty dish with its debris, float32 0..255; dish centre x, y; radius)."""
    n, d = rig.frame_size, rig.dish
    centre = n / 2 + rng.uniform(-d.centre_offset, d.centre_offset, 2) * n
    radius = d.radius * n
    y, x = np.mgrid[:n, :n].astype(np.float32)
    r = np.hypot(x - centre[0], y - centre[1]) / radius
    inside = d.wall_brightness + (d.centre_brightness - d.wall_brightness) * np.clip(1 - r, 0, 1) ** 2
    outside = d.rim_brightness + (d.wall_brightness - d.rim_brightness) * np.exp(-np.maximum(r - 1, 0) * radius / max(d.rim_width, 1e-3))
    light = np.where(r <= 1, inside, outside).astype(np.float32)
    scales = tuple(s for s in (d.texture_scale, d.texture_scale / 3, d.texture_scale / 9) if s >= 1) or (1.0,)
    light += d.texture * fractal_field(rng, (n, n), scales) * (r <= 1.02)
    light *= 1 - _debris(rng, rig, centre, radius)
    return light, centre, radius


def _debris(rng: np.random.Generator, rig: Rig, centre: np.ndarray, radius: float) -> np.ndarray:
    """Absorption (0..1) of specks and fibres lying in the dish."""
    n, c = rig.frame_size, rig.camera
    absorb = np.zeros((n, n), np.float32)
    scale = n / 1024
    for _ in range(c.specks):
        xy = _inside(rng, centre, radius * 0.97)
        cv2.circle(absorb, tuple(int(v) for v in xy), max(1, int(round(rng.uniform(0.5, 2.5) * scale))),
                   float(rng.uniform(*c.debris_darkness)), -1)
    for _ in range(c.fibres):
        start, length = _inside(rng, centre, radius * 0.9), rng.uniform(20, 80) * scale
        angle = rng.uniform(0, 2 * np.pi) + 0.8 * smooth_curve(rng, 16, 8).cumsum() / 16
        steps = np.stack([np.cos(angle), np.sin(angle)], 1) * length / 16
        points = (start + np.concatenate([[[0, 0]], steps.cumsum(0)])).round().astype(np.int32)
        cv2.polylines(absorb, [points], False, float(rng.uniform(*c.debris_darkness) * 0.6), 1)
    return cv2.GaussianBlur(absorb, (0, 0), 0.6)


def _inside(rng: np.random.Generator, centre: np.ndarray, radius: float) -> np.ndarray:
    r, a = radius * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
    return centre + r * np.array([np.cos(a), np.sin(a)])


def larva_absorption(rig: Rig, length: float, heading: float, swing: float, tail_phase: float,
                     offset: np.ndarray, window: int) -> np.ndarray:
    """Absorption (0..1) of one larva in a (window, window) patch whose centre is `offset` px from
    the head centre (the midpoint between the eyes), at `SUPER` x resolution then shrunk."""
    lv = rig.larva
    k = length / lv.length  # this larva's size against the rig's typical one
    big = np.zeros((window * SUPER, window * SUPER), np.float32)
    f, p = np.array([np.cos(heading), np.sin(heading)]), np.array([-np.sin(heading), np.cos(heading)])
    # head centre in the big window: small pixel u is the mean of big pixels SUPER*u .. SUPER*u + SUPER-1,
    # whose centre is SUPER*u + (SUPER-1)/2 (without that half, the larva sat 0.375 px up-left of its label)
    head = (window / 2 - np.asarray(offset)) * SUPER + (SUPER - 1) / 2
    at = lambda xy: tuple(int(round(v)) for v in xy)  # noqa: E731
    degrees = np.rad2deg(heading)

    def ellipse(centre, half_axes, darkness):  # at 1/16 px (cv2's `shift`): eyes land where labelled
        fixed = lambda xy: tuple(int(round(v * 16)) for v in xy)  # noqa: E731
        region = np.zeros_like(big)
        cv2.ellipse(region, fixed(centre), fixed(np.asarray(half_axes) * SUPER * k), degrees, 0, 360,
                    float(darkness), -1, cv2.LINE_8, 4)
        np.maximum(big, region, out=big)

    # tail first (the faintest), then the head parts over it
    tail_length = 0.86 * length
    s = np.linspace(0, 1, TAIL_SEGMENTS + 1)
    bend = swing * s * np.sin(tail_phase - 2 * np.pi * 0.8 * s)  # a wave travelling to the tip
    angle = heading + np.pi + bend
    steps = np.stack([np.cos(angle[:-1]), np.sin(angle[:-1])], 1) * tail_length / TAIL_SEGMENTS * SUPER
    start = head - f * 0.12 * length * SUPER
    points = start + np.concatenate([[[0, 0]], steps.cumsum(0)])
    for i in range(TAIL_SEGMENTS):
        width = max(1, int(round((lv.tail_width * k * (1 - 0.85 * s[i])) * SUPER)))
        cv2.line(big, at(points[i]), at(points[i + 1]), float(lv.tail_darkness * (1 - 0.5 * s[i])), width)
    l = length / k  # the rig's length: part sizes below are at the rig's typical size, scaled by k
    ellipse(head - f * 0.06 * length * SUPER, (0.09 * l, 0.05 * l), lv.head_darkness)
    ellipse(head - f * 0.13 * length * SUPER, (0.045 * l, 0.032 * l), lv.bladder_darkness)
    for side in (-1, 1):
        ellipse(head + side * p * lv.eye_gap * k / 2 * SUPER, lv.eye_size, lv.eye_darkness)
    return cv2.resize(big, (window, window), interpolation=cv2.INTER_AREA)


def camera(rng: np.random.Generator, rig: Rig, light: np.ndarray) -> np.ndarray:
    """Blur, per-frame noise and 8-bit quantization (bright areas saturate at 255, as in real frames)."""
    c = rig.camera
    image = cv2.GaussianBlur(light, (0, 0), c.blur) if c.blur > 0 else light
    image = image + rng.normal(0, c.noise, image.shape).astype(np.float32) if c.noise > 0 else image
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
