"""How much a video flickers: the mean absolute change of a pixel from one frame to the next,
over pixels where nothing moves (away from every animal).

Real cameras flicker by their noise; a translation that is not stable in time adds its own
(textures that crawl, brightness that pumps). Comparing a translated video's flicker with a real
recording's says whether a tracker trained on it sees real-looking time series.
"""

from __future__ import annotations

import numpy as np


class FlickerMeter:
    """Fed frame by frame (so a long video is never held whole); `value` is the mean |change|
    in grey levels over still pixels: those farther than `keep_away` px from every animal in
    both frames of a pair."""

    def __init__(self, keep_away: float = 40.0):
        self.keep_away = keep_away
        self.total, self.count = 0.0, 0
        self._previous: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, frame: np.ndarray, animals_xy: np.ndarray) -> None:
        frame = np.asarray(frame, np.float32)
        still = self._still(frame.shape[:2], np.asarray(animals_xy, float).reshape(-1, 2))
        if self._previous is not None and self._previous[0].shape == frame.shape:
            previous, previous_still = self._previous
            both = still & previous_still
            self.total += float(np.abs(frame - previous)[both].sum())
            self.count += int(both.sum())
        self._previous = (frame, still)

    @property
    def value(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def _still(self, shape: tuple[int, int], animals: np.ndarray) -> np.ndarray:
        y, x = np.ogrid[: shape[0], : shape[1]]
        still = np.ones(shape, bool)
        for ax, ay in animals:
            still &= (x - ax) ** 2 + (y - ay) ** 2 > self.keep_away**2
        return still


def flicker(frames, positions: list[dict] | None = None, keep_away: float = 40.0) -> float:
    """The flicker of a whole video; `positions` rows (frame, x, y) mark the animals."""
    meter = FlickerMeter(keep_away)
    for t, frame in enumerate(frames):
        meter.add(frame, [(r["x"], r["y"]) for r in positions or () if r["frame"] == t])
    return meter.value
