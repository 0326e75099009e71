"""Training runs driven by a validated config."""

from img2img.training.interruption import TrainingInterrupted
from img2img.training.run import train

__all__ = ["TrainingInterrupted", "train"]
