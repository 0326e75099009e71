"""Learning-rate multipliers per optimisation step."""

from __future__ import annotations

import math
from collections.abc import Callable

from img2img.config.schema import ScheduleConfig


def lr_multiplier(schedule: ScheduleConfig) -> Callable[[int], float]:
    """Constant for the first `decay_start` share of steps, then linear (reference) or cosine to zero."""
    total = schedule.steps
    start = int(schedule.decay_start * total)

    def factor(step: int) -> float:
        if schedule.decay == "none" or step < start:
            return 1.0
        progress = min(1.0, (step - start) / max(1, total - start))
        if schedule.decay == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
