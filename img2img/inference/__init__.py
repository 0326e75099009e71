"""Running trained models on arrays and files."""

from img2img.inference.predictor import Predictor

__all__ = ["Predictor"]
