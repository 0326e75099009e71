"""Data sets for animal trackers: simulated videos translated to look real, with their positions
carried over (`augment.py`), written in the formats trackers read (`formats.py`), and how much a
translated video flickers compared with a real one (`flicker.py`)."""

from img2img.tracking.augment import augment_videos
from img2img.tracking.flicker import FlickerMeter, flicker

__all__ = ["FlickerMeter", "augment_videos", "flicker"]
