"""Synthetic sea photographs with dolphin dorsal fins, with instance labels.

A stand-in for photo-identification data: one to five dolphins (dorsal fin on an
arched back) surfacing in open sea. What makes it hard is what makes the real task
hard: wave troughs can be as dark as a fin, sun glitter and sky are brighter than
anything, the waterline and splashes cut the bottom edge of each animal, and distance
changes their size. A single-channel threshold therefore fails, but every fin is
plainly visible by its shape and shading.

The scene is rendered with a little geometry so it looks right: a pinhole camera above
a plane sea, waves as tiled random height fields in world coordinates (so they shrink
and flatten toward the horizon), Fresnel reflection of the sky, and sun glints where
wave facets mirror the sun. Colours are display values in 0..1 until the camera step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from img2img.data.synthetic.common import pick_size, tidy_labels
from img2img.data.synthetic.noise import smooth_curve, smooth_field

TILE = 256  # side of the tiled wave texture (texels)
TILE_WAVELENGTH = 32.0  # dominant wavelength inside the tile (texels)
MAX_DOLPHINS = 5

# Weather looks: sky at the zenith, sky at the horizon, water body colour, sun colour (RGB).
PALETTES = {
    "clear": ((0.22, 0.42, 0.78), (0.70, 0.80, 0.90), (0.02, 0.11, 0.20), (1.00, 0.98, 0.92)),
    "hazy": ((0.50, 0.62, 0.78), (0.84, 0.86, 0.88), (0.08, 0.17, 0.23), (1.00, 0.97, 0.90)),
    "overcast": ((0.58, 0.60, 0.64), (0.80, 0.81, 0.82), (0.10, 0.15, 0.17), (0.95, 0.95, 0.95)),
    "golden": ((0.30, 0.40, 0.62), (0.96, 0.74, 0.48), (0.05, 0.09, 0.14), (1.00, 0.82, 0.55)),
}


@dataclass
class Scene:
    """Camera, horizon, sun and colours of one photograph."""

    h: int
    w: int
    horizon: float  # row of the horizon at the image centre
    tilt: float  # horizon tilt (rad)
    focal: float  # px
    sun_azimuth: float  # rad, 0 = straight ahead
    sun_elevation: float  # rad above the horizon
    zenith: np.ndarray
    sky_horizon: np.ndarray
    water: np.ndarray
    sun: np.ndarray
    roughness: float  # rms wave slope (rad)
    clouds: float  # cloud cover 0..1

    def screen(self) -> tuple[np.ndarray, np.ndarray]:
        """(u, v): px along the horizon from the centre, and px below the horizon."""
        y = np.arange(self.h, dtype=np.float32)[:, None] - self.horizon
        x = np.arange(self.w, dtype=np.float32)[None, :] - self.w / 2
        cos, sin = math.cos(self.tilt), math.sin(self.tilt)
        return x * cos + y * sin, y * cos - x * sin

    @property
    def depth_scale(self) -> float:
        """Distance below the horizon (px) of the image's bottom edge: world units are px there."""
        return max(self.h - self.horizon, 1.0)


@dataclass
class Dolphin:
    """One surfacing dolphin: where its waterline is, how big, posed how."""

    x: float  # screen column of the fin's leading base
    y: float  # screen row of the waterline there
    size: float  # fin base length (px)
    mirror: bool  # swimming to the right instead of the left
    lean: float  # rad; positive sweeps the fin further back
    shade: float  # skin grey level (0..1), nudged away from the local water's


def render_fins(rng: np.random.Generator, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A sea photograph with dolphins (uint8 RGB, H x W x 3) and one label per dolphin (uint16 H x W)."""
    h, w = pick_size(rng, size)
    scene = _random_scene(rng, h, w)
    u, v = scene.screen()
    slant = w * abs(math.tan(scene.tilt)) / 2 + 1  # rows the tilted horizon spans, each side
    sky_end = int(np.clip(np.ceil(scene.horizon + slant), 1, h))
    water_top = int(np.clip(np.floor(scene.horizon - slant), 0, h - 1))
    image = np.zeros((h, w, 3), np.float32)
    image[:sky_end] = _sky(rng, scene, u[:sky_end], v[:sky_end])
    _paint_water(rng, scene, u[water_top:], v[water_top:], image[water_top:])
    labels = np.zeros((h, w), np.int32)
    for index, dolphin in enumerate(_random_dolphins(rng, scene), start=1):
        _draw_dolphin(rng, scene, dolphin, index, image, labels)
    labels = tidy_labels(labels, min_area=min(20, h * w // 64))
    if labels.max() == 0:  # every dolphin hidden by splashes: very rare, draw again
        return render_fins(rng, (h, w))
    return _camera(rng, image), labels


# --- scene -----------------------------------------------------------------------


def _random_scene(rng: np.random.Generator, h: int, w: int) -> Scene:
    """Weather, horizon and sun; the sun is in or near the view two times in three."""
    zenith, sky_horizon, water, sun = (np.array(c, np.float32) for c in PALETTES[rng.choice(list(PALETTES))])
    focal = w * rng.uniform(0.7, 1.6)
    half_view = math.atan(w / 2 / focal)
    near_view = rng.random() < 0.67
    return Scene(
        h=h,
        w=w,
        horizon=h * rng.uniform(0.12, 0.5),
        tilt=float(np.clip(rng.normal(0, 0.02), -0.05, 0.05)),
        focal=focal,
        sun_azimuth=rng.uniform(-0.8, 0.8) * half_view if near_view else rng.uniform(1.5, 3.0) * half_view,
        sun_elevation=rng.uniform(0.04, 0.45),
        zenith=_jitter(rng, zenith),
        sky_horizon=_jitter(rng, sky_horizon),
        water=_jitter(rng, water),
        sun=sun,
        roughness=rng.uniform(0.05, 0.16),
        clouds=rng.uniform(0.0, 0.8),
    )


def _jitter(rng: np.random.Generator, colour: np.ndarray) -> np.ndarray:
    """A colour a little brighter or darker and a little off in hue, so no two scenes match."""
    return np.clip(colour * rng.uniform(0.85, 1.15) + rng.normal(0, 0.03, 3), 0.0, 1.0).astype(np.float32)


def _sky_colour(scene: Scene, elevation: np.ndarray) -> np.ndarray:
    """Sky colour seen at `elevation` (rad): horizon haze blending into the zenith colour."""
    t = 1.0 - np.exp(-np.maximum(elevation, 0.0) / 0.25)
    return scene.sky_horizon + t[..., None] * (scene.zenith - scene.sky_horizon)


def _sky(rng: np.random.Generator, scene: Scene, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sky for the rows given: gradient, wide flat clouds and the sun's glow."""
    elevation = np.arctan(-v / scene.focal)
    sky = _sky_colour(scene, elevation)
    if scene.clouds > 0.05:
        rows, w = v.shape
        narrow = (rows, w // 3 + 1)  # drawn narrow, then stretched: wide, flat clouds
        field = smooth_field(rng, narrow, w / 18) + 0.5 * smooth_field(rng, narrow, w / 60)
        field = cv2.resize(field, (w, rows), interpolation=cv2.INTER_LINEAR)
        cover = np.clip((field - (1.2 - 2.2 * scene.clouds)) / 0.8, 0.0, 1.0)
        cover *= np.clip(elevation / 0.03, 0.0, 1.0)  # melt into the horizon haze
        shade = 0.82 + 0.18 * np.clip(field / 2, 0, 1)  # thicker cloud, brighter
        cloud = (scene.sky_horizon * 0.4 + 0.6) * shade[..., None]
        sky += cover[..., None] * (cloud - sky)
    su = scene.focal * math.tan(scene.sun_azimuth)
    sv = -scene.focal * math.tan(scene.sun_elevation)
    angle = np.sqrt((u - su) ** 2 + (v - sv) ** 2) / scene.focal  # from the sun (rad)
    glow = 0.35 * np.exp(-angle / 0.08) + 3.0 * (angle < 0.012)
    return sky + glow[..., None] * scene.sun


# --- water -----------------------------------------------------------------------


def _wave_tile(rng: np.random.Generator) -> np.ndarray:
    """A tileable wave patch, channels (height, slope along X, slope along Z), each unit std.

    Band-limited random spectrum around TILE_WAVELENGTH, elongated so crests run across
    the wind (along X).
    """
    k = np.fft.fftfreq(TILE) * TILE  # cycles per tile
    kx, kz = np.meshgrid(k, k, indexing="xy")
    radius = np.hypot(kx, kz) + 1e-9
    k0 = TILE / TILE_WAVELENGTH
    spectrum = np.exp(-(((radius - k0) / (0.45 * k0)) ** 2)) * (np.abs(kz) / radius) ** 3
    spectrum = spectrum * (rng.standard_normal((TILE, TILE)) + 1j * rng.standard_normal((TILE, TILE)))
    channels = [spectrum, 1j * kx * spectrum, 1j * kz * spectrum]
    tile = np.stack([np.fft.ifft2(c).real for c in channels], axis=-1).astype(np.float32)
    return tile / tile.reshape(-1, 3).std(axis=0)


def _paint_water(rng: np.random.Generator, scene: Scene, u: np.ndarray, v: np.ndarray, region: np.ndarray) -> None:
    """Paint the sea over `region` (rows from just above the horizon down), anti-aliased at the horizon.

    Fresnel reflection of the sky off wave facets over the water's body colour, sun
    glints where facets mirror the sun, whitecaps and fine streaks toward the horizon.
    """
    cover = np.clip(v + 0.5, 0.0, 1.0)
    v = np.maximum(v, 0.5)
    height, slope_x, slope_z, resolved = _wave_slopes(rng, scene, u, v)
    # Waves too small to resolve still tilt the facets we see toward us (those facing away
    # hide behind crests): far water reflects less, and higher sky, than a flat mirror.
    unresolved = scene.roughness * (1.0 - resolved)
    slope_z += unresolved

    grazing = np.arctan(v / scene.focal)  # angle of the view ray below the horizon
    incidence = np.clip(grazing + slope_z, 0.01, 1.5)  # between ray and wave facet
    fresnel = 0.02 + 0.98 * (1.0 - np.sin(incidence)) ** 5
    reflected = grazing + 2 * slope_z  # elevation of the mirrored ray
    sky = _sky_colour(scene, reflected) * np.clip(1 + 4 * reflected, 0.55, 1.0)[..., None]
    body = scene.water * (1.0 + 0.35 * height)[..., None]
    water = body + fresnel[..., None] * (sky - body)

    azimuth = np.arctan(u / scene.focal)
    miss = (reflected - scene.sun_elevation) ** 2 + (azimuth + 2 * slope_x - scene.sun_azimuth) ** 2
    spread = np.sqrt(0.012**2 + (2 * unresolved) ** 2)  # unresolved glints blur into a glitter path
    glint = 6.0 * (0.012 / spread) * np.exp(-miss / (2 * spread**2)) + 0.25 * np.exp(-miss / (2 * 0.12**2))
    water += (0.15 * np.minimum(glint * fresnel / 0.1, 8.0))[..., None] * scene.sun
    water += _whitecaps(rng, scene, height, v)[..., None]
    streaks = cv2.resize(smooth_field(rng, (v.shape[0], v.shape[1] // 16 + 1), 1.0), v.shape[::-1])
    water *= (1.0 + 0.12 * streaks * (1.0 - resolved))[..., None]
    region += cover[..., None] * (water - region)


def _wave_slopes(
    rng: np.random.Generator, scene: Scene, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wave height, facet slopes (rad), and per row the resolved share of the slope (0..1).

    Waves are octaves of the wave tile at other scales and headings, sampled in world
    coordinates. Where an octave's waves would be finer than a few pixels on screen (far
    away, or foreshortened) it fades out, which stops aliasing; far rows skip it.
    """
    tile = _wave_tile(rng)
    depth = scene.focal * scene.depth_scale / v  # world units: px at the bottom edge
    across = u * scene.depth_scale / v
    centre = v[:, v.shape[1] // 2 : v.shape[1] // 2 + 1]
    longest = scene.w * rng.uniform(0.15, 0.45)
    octaves = 6
    height, slope_x, slope_z = (np.zeros(v.shape, np.float32) for _ in range(3))
    resolved = np.zeros(centre.shape, np.float32)
    wind = rng.uniform(-0.5, 0.5)
    for octave in range(octaves):
        texels = TILE_WAVELENGTH / (longest / 2.3**octave)  # texels per world unit
        heading = wind + rng.normal(0, 0.35)
        cos, sin = math.cos(heading), math.sin(heading)
        # Texels per screen px: across, times the extra squeeze of rows for waves running at us.
        squeeze = texels * scene.depth_scale / centre * np.maximum(1.0, scene.focal / centre * abs(cos))
        fade = np.clip((TILE_WAVELENGTH / 3 - squeeze) / (TILE_WAVELENGTH / 6), 0.0, 1.0)
        weight = 0.8**octave
        resolved += fade * weight**2
        seen = np.flatnonzero(fade[:, 0] > 0)
        if not seen.size:
            continue
        rows = slice(seen[0], None)  # fade grows toward the bottom
        map_x = np.mod((across[rows] * cos - depth[rows] * sin) * texels + rng.uniform(0, TILE), TILE)
        map_y = np.mod((across[rows] * sin + depth[rows] * cos) * texels + rng.uniform(0, TILE), TILE)
        map_x, map_y = map_x.astype(np.float32), map_y.astype(np.float32)
        sample = cv2.remap(tile, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        sample *= fade[rows][..., None] * weight
        height[rows] += sample[..., 0]
        slope_x[rows] += sample[..., 1] * cos + sample[..., 2] * sin  # rotate back to screen axes
        slope_z[rows] += sample[..., 2] * cos - sample[..., 1] * sin
    total = math.sqrt(sum(0.8 ** (2 * o) for o in range(octaves)))
    slope = scene.roughness / total
    return height / total, slope_x * slope, slope_z * slope, np.sqrt(resolved) / total


def _whitecaps(rng: np.random.Generator, scene: Scene, height: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Foam on the highest crests of rough seas: small bright patches that are not dolphins."""
    if scene.roughness < 0.11:
        return np.zeros_like(height)
    foam = np.clip((height - 2.2) * 1.5, 0.0, 1.0) * np.clip(smooth_field(rng, height.shape, 3.0), 0.0, 1.0)
    return 0.6 * foam * np.clip(v / (0.05 * scene.depth_scale), 0.0, 1.0)


# --- dolphins --------------------------------------------------------------------


def _random_dolphins(rng: np.random.Generator, scene: Scene) -> list[Dolphin]:
    """One to five dolphins, smaller toward the horizon, sorted far to near (drawing order)."""
    count = int(rng.integers(1, MAX_DOLPHINS + 1))
    depth = scene.depth_scale
    world_size = scene.w * rng.uniform(0.04, 0.11)  # fin base at the bottom edge (px)
    min_size = max(10.0, 0.03 * min(scene.h, scene.w))
    dolphins = []
    for _ in range(count):
        below = depth * rng.uniform(0.12, 0.97)
        size = max(world_size * (below / depth) * rng.uniform(0.7, 1.3), min_size)
        dolphins.append(
            Dolphin(
                x=rng.uniform(0.08, 0.92) * scene.w,
                y=scene.horizon + below,
                size=size,
                mirror=bool(rng.random() < 0.5),
                lean=float(np.clip(rng.normal(0.05, 0.08), -0.1, 0.25)),
                shade=rng.uniform(0.06, 0.35),
            )
        )
    return sorted(dolphins, key=lambda d: d.y)


def _outline(rng: np.random.Generator, dolphin: Dolphin) -> tuple[np.ndarray, np.ndarray]:
    """Back and fin polygons in fin-base units: x toward the tail, y up, waterline at y = 0.

    The back is an asymmetric arch, partly under water; the fin a falcate triangle: a
    convex leading edge up to a swept-back tip and a concave trailing edge, sometimes
    with nicks, leaning a little.
    """
    front, rear = rng.uniform(0.9, 2.0), rng.uniform(1.3, 2.8)
    crest_x, crest_h = rng.uniform(0.0, 0.7), rng.uniform(0.3, 0.65)
    sink = crest_h * (rng.uniform(0.1, 0.4) if rng.random() < 0.85 else rng.uniform(0.6, 0.9))  # or mostly under
    roundness = rng.uniform(0.6, 0.9)

    def back_height(x: np.ndarray) -> np.ndarray:
        half = np.where(x < crest_x, crest_x + front, rear - crest_x)
        return crest_h * np.clip(1 - ((x - crest_x) / half) ** 2, 0, 1) ** roundness - sink

    xs = np.linspace(-front, rear, 48)
    back = np.concatenate([np.stack([xs, back_height(xs)], 1), [[rear, -0.5], [-front, -0.5]]])

    height, tip_x = rng.uniform(0.8, 1.2), rng.uniform(1.05, 1.5)
    base0, base1 = np.maximum(back_height(np.array([0.0, 1.0])), -0.1) - 0.05  # the fin stands clear
    tip = np.array([tip_x, base0 + height])
    leading = _bezier((0.0, base0), (rng.uniform(0.2, 0.5), base0 + rng.uniform(0.6, 0.85) * height), tip)
    # The control point lies left of the chord tip -> rear base, so the trailing edge is concave.
    hollow = 1.0 + (tip_x - 1.0) * rng.uniform(0.0, 0.3) - rng.uniform(0.05, 0.2)
    trailing = _bezier(tip, (hollow, base1 + rng.uniform(0.25, 0.45) * height), (1.0, base1))
    trailing = _nick(rng, trailing)
    fin = np.concatenate([leading, trailing[1:], [[1.0, base1 - 0.2], [0.0, base0 - 0.2]]])
    fin = _rotate(fin, np.array([0.5, base0]), -dolphin.lean)
    return back, fin


def _bezier(p0, p1, p2, n: int = 16) -> np.ndarray:
    """Points on the quadratic Bezier curve p0 -> p2 pulled toward p1."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _nick(rng: np.random.Generator, edge: np.ndarray) -> np.ndarray:
    """Up to two small notches cut into a trailing edge (the marks photo-id relies on)."""
    edge = edge.copy()
    for _ in range(int(rng.integers(0, 3))):
        i = int(rng.integers(3, len(edge) - 3))
        edge[i, 0] -= rng.uniform(0.04, 0.1)
    return edge


def _rotate(points: np.ndarray, centre: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    d = points - centre
    return centre + np.stack([d[:, 0] * cos - d[:, 1] * sin, d[:, 0] * sin + d[:, 1] * cos], axis=1)


def _to_screen(points: np.ndarray, dolphin: Dolphin, tilt: float) -> np.ndarray:
    """Fin-base units to screen px: scale, mirror, flip y (rows grow downward), tilt with the horizon."""
    x = points[:, 0] * dolphin.size * (-1 if dolphin.mirror else 1)
    y = -points[:, 1] * dolphin.size
    cos, sin = math.cos(tilt), math.sin(tilt)
    return np.stack([dolphin.x + x * cos - y * sin, dolphin.y + x * sin + y * cos], axis=1)


def _draw_dolphin(
    rng: np.random.Generator, scene: Scene, dolphin: Dolphin, index: int, image: np.ndarray, labels: np.ndarray
) -> None:
    """Composite one dolphin (body, waterline, reflection, splash) inside its bounding box."""
    back, fin = (_to_screen(p, dolphin, scene.tilt) for p in _outline(rng, dolphin))
    pts = np.concatenate([back, fin])
    pad = int(dolphin.size * 0.3) + 3
    x0, x1 = int(pts[:, 0].min()) - pad, int(pts[:, 0].max()) + pad
    y0 = int(pts[:, 1].min()) - pad
    y1 = int(dolphin.y + 2 * (dolphin.y - pts[:, 1].min())) + pad  # room for the reflection
    bx0, by0 = max(x0, 0), max(y0, 0)
    bx1, by1 = min(x1, scene.w), min(y1, scene.h)
    if bx0 >= bx1 or by0 >= by1:
        return
    shape = (by1 - by0, bx1 - bx0)
    body = _fill((back, fin), (bx0, by0), shape)
    cols = np.arange(bx0, bx1, dtype=np.float32)
    waterline = dolphin.y + (cols - dolphin.x) * math.tan(scene.tilt) - by0
    waterline = waterline + max(0.6, 0.05 * dolphin.size) * smooth_curve(rng, shape[1], max(dolphin.size / 2, 4))
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    above = np.clip(waterline[None, :] - rows + 0.5, 0.0, 1.0)
    splash = _splash(rng, dolphin, body, waterline, rows)
    visible = body * above * (1 - splash)

    patch = image[by0:by1, bx0:bx1]
    water = patch[(above < 0.5) & (body < 0.1)]
    water_level = float(np.median(_luminance(water))) if len(water) else 0.3
    skin = _skin(rng, scene, dolphin, body, water_level)
    _reflect(body, above, waterline, skin, patch)
    patch += visible[..., None] * (skin - patch)
    patch += splash[..., None] * (np.float32(0.9) * scene.sky_horizon**0.3 - patch)
    painted = labels[by0:by1, bx0:bx1]
    painted[splash > 0.5] = 0  # spray also hides dolphins drawn before (farther away)
    painted[visible > 0.5] = index


def _fill(polygons: tuple[np.ndarray, ...], origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage (0..1) of the union of polygons, in a patch starting at `origin`."""
    union = np.zeros(shape, np.uint8)
    shift = 4  # sub-pixel precision: coordinates in 1/16 px
    for polygon in polygons:  # one call each: a single call would fill overlaps even-odd, as holes
        canvas = np.zeros(shape, np.uint8)
        points = np.round((polygon - origin) * (1 << shift)).astype(np.int32)
        cv2.fillPoly(canvas, [points], 255, cv2.LINE_AA, shift=shift)
        np.maximum(union, canvas, out=union)
    return union.astype(np.float32) / 255


def _splash(
    rng: np.random.Generator, dolphin: Dolphin, body: np.ndarray, waterline: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Foam and spray where the body breaks the surface: irregular blobs on the waterline (opacity 0..1)."""
    w = body.shape[1]
    breaks = (body > 0.5)[np.clip(waterline.astype(int) - 1, 0, body.shape[0] - 1), np.arange(w)]
    if not breaks.any() or rng.random() < 0.15:  # some surfacings are clean
        return np.zeros_like(body)
    near = cv2.GaussianBlur(breaks.astype(np.float32)[None, :], (0, 0), max(1.0, dolphin.size * 0.3))[0]
    amount = np.clip(near / near.max() * (0.8 + smooth_curve(rng, w, dolphin.size / 2)) - 0.3, 0, 1)
    reach = 1.0 + dolphin.size * rng.uniform(0.05, 0.18) * amount  # foam height above the waterline (px)
    above = (waterline[None, :] - rows) / reach[None, :]  # in foam heights; < 0 is below the waterline
    band = np.exp(-np.square(np.maximum(above, -3 * above))) * amount[None, :]
    texture = smooth_field(rng, body.shape, max(1.2, dolphin.size / 14))
    return np.clip(band * (2.0 + texture) - 0.8, 0, 1)


def _skin(rng: np.random.Generator, scene: Scene, dolphin: Dolphin, body: np.ndarray, water_level: float) -> np.ndarray:
    """Grey skin that stands out from the local water, shaded as a rounded body, wet sheen on top edges."""
    grey = dolphin.shade
    if abs(grey - water_level) < 0.14:  # keep it visible: darker than the water, unless that is near black
        grey = water_level - 0.14 if water_level > 0.2 else water_level + 0.14
    tint = np.array([0.96, 1.0, 1.06], np.float32) * grey
    towards_sun = 1.0 if scene.sun_azimuth > 0 else -1.0  # screen direction of the sun
    light_dir = np.array([0.8 * towards_sun, -0.6])  # (x, y) in image axes, from above on the sun side
    # Normals of a rounded body: gradients of the blurred silhouette, broad and fine.
    light = np.full(body.shape, 0.8, np.float32)
    for blur, strength in ((0.35, 0.3), (0.08, 0.25)):
        soft = cv2.GaussianBlur(body, (0, 0), max(1.0, dolphin.size * blur))
        gy, gx = np.gradient(soft)
        scale = dolphin.size * blur * 2.5  # gradients of a blurred edge are about 1 / (2.5 sigma)
        light += strength * np.clip(-(gx * light_dir[0] + gy * light_dir[1]) * scale, -0.6, 1.0)
    soft = cv2.GaussianBlur(body, (0, 0), max(1.0, dolphin.size * 0.08))
    top_edge = np.clip(np.gradient(soft, axis=0) * dolphin.size * 0.2, 0, 1)
    light += 0.06 * smooth_field(rng, body.shape, max(2.0, dolphin.size / 4))
    sheen = top_edge * rng.uniform(0.1, 0.4)
    return tint * light[..., None] + sheen[..., None] * scene.sky_horizon


def _reflect(body: np.ndarray, above: np.ndarray, waterline: np.ndarray, skin: np.ndarray, patch: np.ndarray) -> None:
    """A faint, dark, blurred mirror image of the body just below the waterline."""
    h = body.shape[0]
    rows = np.arange(h)[:, None]
    mirror_rows = np.clip(2 * waterline[None, :] - rows, 0, h - 1).astype(np.int32)
    mirrored = np.take_along_axis(body, mirror_rows, axis=0) * (1 - above)
    mirrored = cv2.GaussianBlur(mirrored, (0, 0), 1.5) * 0.35
    patch += mirrored[..., None] * (skin * 0.7 - patch)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


# --- camera ----------------------------------------------------------------------


def _camera(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Exposure, lens softness, sensor noise and a JPEG round trip, to uint8 RGB."""
    image = image * rng.uniform(0.9, 1.1)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 0.9))
    image += rng.uniform(0.004, 0.015) * rng.standard_normal(image.shape, dtype=np.float32)
    rgb = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # OpenCV codecs work in BGR
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 93))])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy() if ok else rgb
