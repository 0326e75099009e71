"""Synthetic Z stacks of touching nuclei with known 3D labels, for 3D segmentation and stitching.

A confocal-like stack: ellipsoidal nuclei (12-17 µm across in X and Y, flatter in Z), packed so that
most touch their neighbours (a layer of cells on a coverslip by default, or tissue), sampled at 0.5 µm pixels and 1 µm steps (the calibration written with them). Where two
nuclei would overlap, each voxel belongs to the one whose centre is nearer in its own shape's
units, so neighbours share a flat boundary as pressed nuclei do. The signal is each nucleus'
brightness with chromatin texture, blurred by an anisotropic point-spread function (wider in Z),
on a dim background, seen by a camera with shot and read noise (uint16). Labels are unique through
the stack: one id per nucleus on every plane it reaches, which is what plane-by-plane segmentation
stitched into 3D objects should give back.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from img2img.io.metadata import Calibration

PIXEL_UM, STEP_UM = 0.5, 1.0  # x/y pixel size and z step, micrometres
CALIBRATION = Calibration(x=PIXEL_UM, y=PIXEL_UM, z=STEP_UM, unit="micrometer")
DEFAULT_SHAPE = (24, 192, 192)  # Z, Y, X
RADIUS_XY_UM = (6.0, 8.5)  # semi-axes in X/Y, µm (24-34 px diameters: the builtin model's size range)
RADIUS_Z_UM = (4.0, 6.0)
PSF_SIGMA_UM = (1.2, 0.35)  # z, xy: confocal-like, wider along the optical axis
SHEET_SD_UM = 0.5  # spread of the nuclei's centres about their sheet, along Z
TOUCHING = 1.85  # least centre distance in mean radii (2: spheres just touch): neighbours press together


def render_nuclei_3d(rng: np.random.Generator, shape: tuple[int, int, int] | None = None,
                     layers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A (Z, Y, X) uint16 stack and its (Z, Y, X) uint16 3D instance labels (0 = background).

    `layers`: 1 (default) is a layer of nuclei side by side, touching, as cells grown on a
    coverslip; N stacks N such sheets through the depth; 0 packs nuclei anywhere in the volume, as
    in tissue, where nuclei also lie on top of each other."""
    shape = tuple(int(n) for n in (shape or DEFAULT_SHAPE))
    if len(shape) == 2:  # a square size from the CLI: a stack of the default depth
        shape = (DEFAULT_SHAPE[0], *shape)
    labels, nuclei, depth = _labels(rng, shape, layers)
    signal = _signal(rng, labels, nuclei, depth)
    return _camera(rng, signal), labels


def _labels(rng: np.random.Generator, shape: tuple[int, int, int],
            layers: int = 1) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """Labels, the nuclei kept, and each voxel's distance from its nucleus' centre in that
    nucleus' radii (0 centre, 1 surface)."""
    depth, height, width = shape
    scale = np.array([STEP_UM, PIXEL_UM, PIXEL_UM])  # µm per voxel along z, y, x
    extent = np.array(shape) * scale
    nuclei: list[dict] = []
    centres, sizes = np.zeros((0, 3)), np.zeros((0, 3))
    for _ in range(4000):  # dense random packing: keep a centre if it does not overlap much
        if len(nuclei) >= 400:
            break
        r_xy = rng.uniform(*RADIUS_XY_UM)
        radii = np.array([rng.uniform(*RADIUS_Z_UM), r_xy * rng.uniform(0.8, 1.0), r_xy])
        if layers == 0:  # tissue: centres anywhere in the volume, nuclei stacked in Z too
            centre = rng.uniform([-0.3 * radii[0], 0, 0], extent + [0.3 * radii[0], 0, 0])
        else:  # `layers` sheets of nuclei (1: cells grown on a coverslip), centres near each sheet's middle
            sheet = (rng.integers(layers) + 0.5) * extent[0] / layers
            centre = np.array([sheet + rng.normal(0, SHEET_SD_UM), *rng.uniform(0, extent[1:])])
        if np.all(np.linalg.norm((centre - centres) / ((radii + sizes) / 2), axis=1) > TOUCHING):
            nuclei.append({"centre": centre, "radii": radii, "angle": rng.uniform(0, np.pi)})
            centres, sizes = np.vstack([centres, centre]), np.vstack([sizes, radii])
    best = np.full(shape, np.inf, np.float32)
    labels = np.zeros(shape, np.int32)
    for index, nucleus in enumerate(nuclei, start=1):
        box = _box(nucleus, scale, shape)
        if box is None:
            continue
        grid = np.meshgrid(*[(np.arange(s.start, s.stop) + 0.5) * d for s, d in zip(box, scale)], indexing="ij")
        dz, dy, dx = (g - c for g, c in zip(grid, nucleus["centre"]))
        cos, sin = np.cos(nucleus["angle"]), np.sin(nucleus["angle"])
        u, v = cos * dx + sin * dy, -sin * dx + cos * dy
        rz, ry, rx = nucleus["radii"]
        distance = np.sqrt((dz / rz) ** 2 + (v / ry) ** 2 + (u / rx) ** 2)
        inside = (distance < 1) & (distance < best[box])
        best[box][inside] = distance[inside]
        labels[box][inside] = index
    ids, labels = np.unique(labels, return_inverse=True)
    labels = labels.reshape(shape).astype(np.uint16)
    kept = [nuclei[i - 1] for i in ids if i > 0]
    return labels, kept, best


def _box(nucleus: dict, scale: np.ndarray, shape: tuple[int, int, int]) -> tuple[slice, ...] | None:
    reach = np.array([nucleus["radii"][0], nucleus["radii"][2], nucleus["radii"][2]])
    low = np.maximum(np.floor((nucleus["centre"] - reach) / scale).astype(int), 0)
    high = np.minimum(np.ceil((nucleus["centre"] + reach) / scale).astype(int) + 1, shape)
    if np.any(high <= low):
        return None
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high))


def _signal(rng: np.random.Generator, labels: np.ndarray, nuclei: list[dict], depth: np.ndarray) -> np.ndarray:
    """Expected photo-electrons: brightness per nucleus (a 4x range) with chromatin texture, falling
    towards the nucleus' surface (less chromatin in the light path), so touching nuclei are parted
    by a dimmer seam; a dim uneven background."""
    brightness = np.concatenate([[0.0], rng.uniform(250.0, 1000.0, len(nuclei))]).astype(np.float32)
    texture = ndimage.gaussian_filter(rng.standard_normal(labels.shape).astype(np.float32), (0.7, 1.5, 1.5))
    texture /= max(float(texture.std()), 1e-6)
    profile = np.where(labels > 0, 1 - 0.6 * np.minimum(depth, 1) ** 4, 0).astype(np.float32)
    signal = brightness[labels] * (1 + 0.25 * texture) * profile
    sigma = (PSF_SIGMA_UM[0] / STEP_UM, PSF_SIGMA_UM[1] / PIXEL_UM, PSF_SIGMA_UM[1] / PIXEL_UM)
    signal = ndimage.gaussian_filter(signal, sigma)
    background = 30.0 + 20.0 * ndimage.gaussian_filter(rng.random(labels.shape[1:]).astype(np.float32), 30)
    return np.maximum(signal + background[None], 0)


def _camera(rng: np.random.Generator, electrons: np.ndarray) -> np.ndarray:
    counts = rng.poisson(electrons).astype(np.float32)
    adu = 100.0 + 2.0 * counts + rng.normal(0.0, 3.0, electrons.shape).astype(np.float32)
    return np.clip(np.rint(adu), 0, 65535).astype(np.uint16)
