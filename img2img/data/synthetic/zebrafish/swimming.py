"""Bout-and-glide paths of larvae in a round dish.

Zebrafish larvae do not swim steadily: they rest, then turn and push off in a bout lasting a
fraction of a second, glide to a stop, and rest again. A path here is a heading and a speed per
frame; a larva that would leave the dish turns back towards its middle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from img2img.data.synthetic.zebrafish.rig import Rig


@dataclass
class SwimPath:
    xy: np.ndarray  # (frames, 2) head centre x, y, px
    heading: np.ndarray  # (frames,) radians, direction the head points, atan2(dy, dx) in image axes
    speed: np.ndarray  # (frames,) px per frame
    tail_phase: np.ndarray  # (frames,) radians, for the tail's swing


def swim(rng: np.random.Generator, rig: Rig, frames: int, centre: np.ndarray, radius: float, start: np.ndarray) -> SwimPath:
    s = rig.swimming
    margin = rig.larva.length * 0.6
    xy, heading, speed, phase = np.array(start, float), rng.uniform(-np.pi, np.pi), 0.0, rng.uniform(0, 2 * np.pi)
    out = SwimPath(np.zeros((frames, 2)), np.zeros(frames), np.zeros(frames), np.zeros(frames))
    for t in range(frames):
        # a new bout, once the glide has slowed to a 30th of a bout's push (relative, so a rig scaled
        # by --size rests as long as the full-size one)
        if speed < s.bout_speed / 30 and rng.random() < s.bout_rate:
            heading += np.deg2rad(rng.normal(0, s.turn_std))
            speed = s.bout_speed * rng.uniform(0.5, 1.5)
        ahead = xy + speed * np.array([np.cos(heading), np.sin(heading)])
        if np.linalg.norm(ahead - centre) > radius - margin:  # the wall: turn towards the middle
            inward = np.arctan2(*(centre - xy)[::-1])
            heading = inward + rng.normal(0, 0.5)
            ahead = xy + speed * np.array([np.cos(heading), np.sin(heading)])
        xy = ahead if np.linalg.norm(ahead - centre) <= radius - margin else xy
        phase += 0.9 * min(1.0, speed / max(s.bout_speed, 1e-6)) * np.pi
        out.xy[t], out.heading[t], out.speed[t], out.tail_phase[t] = xy, np.angle(np.exp(1j * heading)), speed, phase
        speed *= s.glide_decay
    return out
