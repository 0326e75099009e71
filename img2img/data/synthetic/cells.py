"""Synthetic fluorescence images of cell nuclei, with instance labels.

The point is a stand-in for real nucleus segmentation data that is hard in the same
ways: nuclei touch and overlap, their brightness varies so much that dim ones are
darker than bright parts of the background, illumination is uneven, focus varies, and
the noise is that of a real camera. A global threshold therefore fails, while every
nucleus stays visible against its local surroundings.

Everything is computed in photo-electrons and converted to camera counts (ADU) at the
end: offset + gain * Poisson(signal) + read noise, in uint16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from img2img.data.synthetic.common import pick_size, tidy_labels
from img2img.data.synthetic.noise import fractal_field, smooth_field

REFERENCE_AREA = 256 * 256  # nucleus counts below are per this area
MIN_COUNT, MAX_COUNT = 10, 60
MIN_DIAMETER, MAX_DIAMETER = 12.0, 40.0
HARMONICS = 4  # radial-noise harmonics (2, 3, 4, 5) of the nucleus outline


@dataclass
class Nucleus:
    """One nucleus: geometry, brightness and focus."""

    cy: float
    cx: float
    a: float  # semi-axes (px)
    b: float
    angle: float
    outline: list[complex]  # coefficients of harmonics 2..HARMONICS+1 of the radius
    brightness: float  # photo-electrons at the nucleus centre
    texture: float  # strength of chromatin spots, relative to brightness
    rim: float  # extra brightness of the nuclear rim, relative
    nucleoli: list[tuple[float, float, float, float]]  # (y, x, sigma, amplitude) in outline units
    blur: float  # Gaussian sigma (px) of this nucleus' defocus


def render_cells(rng: np.random.Generator, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A fluorescence nucleus image (uint16, H x W) and its instance labels (uint16, 0 = background)."""
    signal, labels, brightest = cell_scene(rng, size)
    return _camera(rng, signal, brightest), labels


def cell_scene(rng: np.random.Generator, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """The noise-free scene: expected photo-electrons (float32), instance labels, and the
    brightness of the brightest nucleus (what the camera's gain is set for)."""
    h, w = pick_size(rng, size)
    nuclei = _random_nuclei(rng, *_place_nuclei(rng, h, w))
    chromatin = _chromatin_field(rng, (h, w))
    signal = np.zeros((h, w), np.float32)
    labels = np.zeros((h, w), np.int32)
    for index, nucleus in enumerate(nuclei, start=1):  # later nuclei lie on top
        _draw_nucleus(nucleus, index, chromatin, signal, labels)
    labels = tidy_labels(labels, min_area=min(int(0.25 * np.pi * (MIN_DIAMETER / 2) ** 2), h * w // 16))
    if labels.max() == 0:  # a small frame where every nucleus fell off the edge: try again
        return cell_scene(rng, (h, w))
    brightest = max(n.brightness for n in nuclei)
    signal += _background(rng, (h, w), dimmest=min(n.brightness for n in nuclei), brightest=brightest)
    signal *= _illumination(rng, (h, w))
    return signal, labels, brightest


def _place_nuclei(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """How many nuclei, how big, and where: (centres (N, 2), radii (N,)).

    Partly clustered, many touching, some overlapping.
    """
    area_scale = h * w / REFERENCE_AREA
    mean_diameter = rng.uniform(14.0, 30.0)
    coverage = rng.uniform(0.2, 0.45)  # fraction of the frame covered by nuclei
    wanted = coverage * h * w / (np.pi * mean_diameter**2 / 4)
    count = max(int(np.clip(wanted, MIN_COUNT * area_scale, MAX_COUNT * area_scale)), 1)
    radii = np.clip(mean_diameter * rng.lognormal(0.0, 0.22, count), MIN_DIAMETER, MAX_DIAMETER) / 2
    clusters = rng.uniform((0, 0), (h, w), size=(max(1, int(rng.integers(1, 4) * area_scale)), 2))

    # Most nuclei may only touch their neighbours; some may overlap them deeply.
    closeness = np.where(rng.random(count) < 0.25, rng.uniform(0.55, 0.75, count), rng.uniform(0.9, 1.0, count))
    snuggle = rng.uniform(0.3, 0.7)
    placed = _Placed(count)
    for radius, close in zip(radii, closeness):
        yx = _free_spot(rng, (h, w), radius, close, snuggle, clusters, placed)
        if yx is not None:
            placed.add(yx, radius)
    return placed.yx[: placed.n], placed.r[: placed.n]


class _Placed:
    """Centres and radii of the nuclei placed so far, in preallocated arrays."""

    def __init__(self, capacity: int) -> None:
        self.yx = np.empty((capacity, 2))
        self.r = np.empty(capacity)
        self.n = 0

    def add(self, yx: np.ndarray, radius: float) -> None:
        self.yx[self.n], self.r[self.n] = yx, radius
        self.n += 1


def _free_spot(
    rng: np.random.Generator,
    shape: tuple[int, int],
    radius: float,
    closeness: float,
    snuggle: float,
    clusters: np.ndarray,
    placed: _Placed,
) -> np.ndarray | None:
    """A centre at least `closeness` x the sum of radii away from every placed nucleus.

    Candidates are tested sixteen at a time. With probability `snuggle` they are proposed
    right next to placed nuclei (at the distance where two touch), else half the time
    near a cluster centre, so touching nuclei and clumps are common rather than rare.
    """
    h, w = shape
    yx, r = placed.yx[: placed.n], placed.r[: placed.n]
    for _ in range(4):
        if placed.n and rng.random() < snuggle:  # right next to a placed nucleus
            anchor = rng.integers(0, placed.n, 16)
            angle = rng.uniform(0, 2 * np.pi, 16)
            reach = (radius + r[anchor]) * rng.uniform(0.9, 1.15, 16)
            candidates = yx[anchor] + reach[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
        elif rng.random() < 0.5:  # loosely around a cluster centre
            candidates = clusters[rng.integers(0, len(clusters), 16)] + rng.normal(0.0, 4 * radius, (16, 2))
        else:  # anywhere, a little past the edges too
            margin = 0.3 * radius
            candidates = rng.uniform((-margin, -margin), (h + margin, w + margin), size=(16, 2))
        if not placed.n:
            return candidates[0]
        dy = candidates[:, :1] - yx[None, :, 0]
        dx = candidates[:, 1:] - yx[None, :, 1]
        ok = np.all(dy * dy + dx * dx >= (closeness * (radius + r)) ** 2, axis=1)
        if ok.any():
            return candidates[int(np.argmax(ok))]
    return None


def _random_nuclei(rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray) -> list[Nucleus]:
    """Shape, texture, brightness and focus of each nucleus, drawn for all at once.

    Brightness is log-uniform over a 6x to 25x range, so the dimmest nuclei sink below
    bright background haze. About one nucleus in five lies out of the focal plane: more
    blurred and a little dimmer.
    """
    n = len(radii)
    elongation = np.sqrt(rng.uniform(1.0, 1.6, n))
    k = np.arange(2, HARMONICS + 2)
    amplitude = rng.uniform(0.02, 0.10, (n, 1)) / k**0.8  # lumpy, not spiky
    outline = amplitude * np.exp(1j * rng.uniform(0, 2 * np.pi, (n, HARMONICS)))
    bright = rng.uniform(600.0, 4000.0)
    brightness = bright * np.exp(-rng.uniform(0, 1, n) * np.log(rng.uniform(6.0, 25.0)))
    defocus = rng.uniform(0.3, 1.6)  # of the whole image
    blur = np.full(n, defocus)
    away = rng.random(n) < 0.2
    blur[away] = np.hypot(defocus, rng.uniform(1.5, 4.0, away.sum()))
    brightness[away] *= 0.8
    rim = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 0.5, n), 0.0)
    texture = rng.uniform(0.05, 0.45, n)
    angle = rng.uniform(0, np.pi, n)
    # Plain floats keep the float32 patch arithmetic in float32.
    return [
        Nucleus(
            cy=float(centres[i, 0]),
            cx=float(centres[i, 1]),
            a=float(radii[i] * elongation[i]),
            b=float(radii[i] / elongation[i]),
            angle=float(angle[i]),
            outline=[complex(c) for c in outline[i]],
            brightness=float(brightness[i]),
            texture=float(texture[i]),
            rim=float(rim[i]),
            nucleoli=_random_nucleoli(rng, radii[i] / elongation[i]),
            blur=float(blur[i]),
        )
        for i in range(n)
    ]


def _random_nucleoli(rng: np.random.Generator, minor_axis: float) -> list[tuple[float, float, float, float]]:
    """Zero to three round blobs well inside the nucleus; in some nuclei dark instead of bright."""
    count = int(rng.integers(0, 4))
    r, t = rng.uniform(0, 0.5, count), rng.uniform(0, 2 * np.pi, count)
    sigma = rng.uniform(1.2, 2.5, count) / minor_axis
    amplitude = rng.uniform(0.3, 0.8, count) * (1.0 if rng.random() < 0.7 else -0.6)
    return [tuple(map(float, row)) for row in zip(r * np.sin(t), r * np.cos(t), sigma, amplitude)]


def _chromatin_field(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Fine bright speckles (mean about 0, positive spots), sampled inside every nucleus."""
    field = 0.7 * smooth_field(rng, shape, 1.2) + 0.5 * smooth_field(rng, shape, 3.0)
    return np.maximum(field, -0.3) - 0.1


def _draw_nucleus(
    nucleus: Nucleus,
    index: int,
    chromatin: np.ndarray,
    signal: np.ndarray,
    labels: np.ndarray,
) -> None:
    """Add one nucleus to `signal` and paint its outline into `labels`, inside its bounding box only."""
    h, w = signal.shape
    reach = max(nucleus.a, nucleus.b) * (1.0 + sum(abs(c) for c in nucleus.outline)) + 1
    pad = int(np.ceil(reach + 3 * nucleus.blur + 1))
    y0, y1 = max(int(nucleus.cy) - pad, 0), min(int(nucleus.cy) + pad + 1, h)
    x0, x1 = max(int(nucleus.cx) - pad, 0), min(int(nucleus.cx) + pad + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    dy = (np.arange(y0, y1, dtype=np.float32) - nucleus.cy)[:, None]
    dx = (np.arange(x0, x1, dtype=np.float32) - nucleus.cx)[None, :]
    cos, sin = math.cos(nucleus.angle), math.sin(nucleus.angle)
    u = (dx * cos + dy * sin) / nucleus.a
    v = (dy * cos - dx * sin) / nucleus.b
    rho = np.sqrt(u * u + v * v) + 1e-6
    # Irregular outline: radius 1 + sum_k |c_k| cos(k phi + arg c_k), with cos/sin(k phi)
    # built up from cos(phi) = u / rho and sin(phi) = v / rho.
    cos1, sin1 = u / rho, v / rho
    cos_k, sin_k = cos1 * cos1 - sin1 * sin1, 2 * cos1 * sin1
    edge = np.ones_like(rho)
    for c in nucleus.outline:
        edge += c.real * cos_k - c.imag * sin_k
        cos_k, sin_k = cos_k * cos1 - sin_k * sin1, sin_k * cos1 + cos_k * sin1
    mean_radius = math.sqrt(nucleus.a * nucleus.b)
    inside = (edge - rho) * mean_radius  # px inside the outline (negative outside)

    coverage = np.clip(inside + 0.5, 0.0, 1.0)  # one-pixel anti-aliased edge
    profile = 0.8 + 0.2 * np.clip(1 - (rho / edge) ** 2, 0, 1)  # slightly domed
    profile += nucleus.rim * np.exp(-((inside / 2.0) ** 2))
    profile *= 1 + nucleus.texture * 2.5 * chromatin[y0:y1, x0:x1]
    for y, x, sigma, amplitude in nucleus.nucleoli:
        profile += amplitude * np.exp(((u - x) ** 2 + (v - y) ** 2) / (-2 * sigma**2))
    patch = (nucleus.brightness * coverage * np.maximum(profile, 0.05)).astype(np.float32)
    if nucleus.blur > 0.3:
        patch = cv2.GaussianBlur(patch, (0, 0), nucleus.blur, borderType=cv2.BORDER_REPLICATE)
    signal[y0:y1, x0:x1] += patch
    labels[y0:y1, x0:x1][inside > 0] = index


def _background(rng: np.random.Generator, shape: tuple[int, int], dimmest: float, brightest: float) -> np.ndarray:
    """Autofluorescence and out-of-focus haze: smooth, with patches brighter than the dimmest nuclei."""
    h, w = shape
    side = max(h, w)
    level = rng.uniform(0.03, 0.12) * brightest
    haze = fractal_field(rng, shape, (side / 2, side / 5, max(side / 8, 48.0)), falloff=0.7)
    haze = np.maximum(haze, -1.5) + 1.5  # 0 .. about 4.5, mostly 1..2.5
    swing = rng.uniform(0.6, 1.4) * dimmest  # bright haze rises above dim nuclei
    return (level + swing * haze / 2.0).astype(np.float32)


def _illumination(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uneven excitation: an off-centre vignette times a linear gradient, 1 at its maximum."""
    h, w = shape
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    cy, cx = rng.uniform(-0.6, 0.6, 2)
    vignette = 1 - rng.uniform(0.15, 0.5) * ((y - cy) ** 2 + (x - cx) ** 2) / 2
    gy, gx = rng.uniform(-0.25, 0.25, 2)
    light = np.clip(vignette * (1 + gy * y + gx * x), 0.2, None)
    return light / light.max()


def _camera(rng: np.random.Generator, electrons: np.ndarray, brightest: float) -> np.ndarray:
    """Shot noise, gain, read noise and a per-image offset (with a slight slow drift), as uint16."""
    h, w = electrons.shape
    gain = rng.uniform(0.8, 3.0) * 3000.0 / brightest  # ADU per electron: peaks of a few thousand ADU
    offset = rng.uniform(100.0, 1000.0) * (1 + 0.02 * smooth_field(rng, (h, w), max(h, w) / 2))
    counts = _shot_noise(rng, np.maximum(electrons, 0))
    adu = offset + gain * counts + rng.normal(0.0, rng.uniform(1.5, 8.0), (h, w)).astype(np.float32)
    return np.clip(np.rint(adu), 0, 65535).astype(np.uint16)


def _shot_noise(rng: np.random.Generator, electrons: np.ndarray) -> np.ndarray:
    """Poisson counts; above 30 electrons the (3x faster, indistinguishable) normal approximation."""
    counts = electrons + np.sqrt(electrons) * rng.standard_normal(electrons.shape, dtype=np.float32)
    low = electrons < 30
    counts[low] = rng.poisson(electrons[low])
    return counts
