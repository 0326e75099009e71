"""Running trained models on arrays and files."""

from img2img.inference.predictor import Predictor
from img2img.inference.segmenting import Segmenter  # registers itself as the Predictor of segmentation models

__all__ = ["Predictor", "Segmenter"]
