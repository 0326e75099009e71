"""The recording set-up a simulation imitates, as settings a lab can match to its own rig.

Defaults are measured on the real recording in ../shared/data/larvae_real (1024 px frames of a
dish; docs/cyclegan.md): the dish fills the frame (radius 0.486 of the side), bright in the middle
(240 of 255, saturating) and darker towards the wall (190), a dark rim (45) outside; larvae about
115 px long with eyes 9 x 7 px; camera noise of standard deviation 13 grey levels. Lengths are in
pixels of a `frame_size` frame; times in frames.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from img2img.errors import UserError


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dish(_Settings):
    radius: float = Field(0.486, gt=0, le=1, description="dish radius, share of the frame side")
    centre_offset: float = Field(0.02, ge=0, le=0.5, description="largest random shift of the dish centre, share of the side")
    centre_brightness: float = Field(240, ge=0, le=255)
    wall_brightness: float = Field(190, ge=0, le=255, description="just inside the wall")
    rim_brightness: float = Field(45, ge=0, le=255, description="outside the dish")
    rim_width: float = Field(12, ge=0, description="px over which the wall fades to the rim")
    texture: float = Field(8, ge=0, description="std of the dish's static mottling, grey levels")
    texture_scale: float = Field(16, gt=0, description="size of its largest blotches, px")


class Larva(_Settings):
    length: float = Field(115, gt=10, description="eyes to tail tip, px")
    length_spread: float = Field(0.08, ge=0, lt=1, description="relative std of the length between larvae")
    eye_size: tuple[float, float] = (4.5, 3.5)  # half-axes, px
    eye_gap: float = Field(9, gt=0, description="between the eyes' centres, px")
    eye_darkness: float = Field(0.9, ge=0, le=1, description="share of light the eyes absorb")
    bladder_darkness: float = Field(0.6, ge=0, le=1)
    head_darkness: float = Field(0.3, ge=0, le=1)
    tail_darkness: float = Field(0.35, ge=0, le=1, description="the thin tail is faint")
    tail_width: float = Field(3.0, gt=0, description="at its base, px; it tapers to a point")


class Swimming(_Settings):
    """Larvae swim in bouts: a quick turn and a push, then a glide that slows, then a pause."""

    bout_rate: float = Field(0.04, ge=0, le=1, description="chance per frame that a resting larva starts a bout")
    bout_speed: float = Field(6.0, ge=0, description="speed at a bout's start, px per frame")
    glide_decay: float = Field(0.8, gt=0, lt=1, description="speed kept from one frame to the next")
    turn_std: float = Field(35, ge=0, description="std of the heading change at a bout's start, degrees")
    tail_beat: float = Field(25, ge=0, description="tail swing while moving, degrees at full speed")


class Camera(_Settings):
    noise: float = Field(13, ge=0, description="std of the per-frame noise, grey levels")
    blur: float = Field(0.7, ge=0, description="optical blur, Gaussian sigma in px")
    specks: int = Field(40, ge=0, description="small dark particles of debris in the dish")
    fibres: int = Field(6, ge=0, description="thin curved fibres in the dish")
    debris_darkness: tuple[float, float] = (0.1, 0.45)  # range of the share of light debris absorbs


class Rig(_Settings):
    frame_size: int = Field(1024, ge=64, le=8192)
    larvae: int = Field(3, ge=0, le=50, description="larvae per dish")
    dish: Dish = Dish()
    larva: Larva = Larva()
    swimming: Swimming = Swimming()
    camera: Camera = Camera()

    def scaled(self, factor: float) -> Rig:
        """The same rig seen at `factor` times the resolution, as real frames resized by area
        averaging would show it: lengths scale, shares and grey levels do not, noise shrinks."""
        data = self.model_dump()
        data["frame_size"] = max(64, round(self.frame_size * factor))
        for key in ("rim_width", "texture_scale"):
            data["dish"][key] *= factor
        for key in ("length", "eye_gap", "tail_width"):
            data["larva"][key] *= factor
        data["larva"]["eye_size"] = tuple(v * factor for v in self.larva.eye_size)
        data["swimming"]["bout_speed"] *= factor
        data["camera"]["blur"] *= factor
        # Shrinking frames by area averaging averages factor**-2 pixels' independent noise; a rig
        # simulated small must be as noisy as the real frames shrunk (enlarging keeps the noise).
        data["camera"]["noise"] *= min(1.0, factor)
        return Rig.model_validate(data)


def load_rig(path: Path | str | None) -> Rig:
    """The rig in a YAML file (any subset of the settings; the rest keep their defaults)."""
    if path is None:
        return Rig()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read the rig settings ({type(exc).__name__}); give a YAML file") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the rig settings must be a mapping of keys, e.g. 'larvae: 3'")
    try:
        return Rig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        raise UserError(f"{path}: {problems}") from None
