"""Object size: measuring it in label images and rescaling images so objects meet the size a
model was trained at.

Data sets mix magnifications (nuclei 7 to 90 px across in the DSB 2018 images), while a
convolutional network recognises shapes at the scale it learned them. So a segmenter with a
`segmentation.object_diameter` is trained on images rescaled until their median object is that
wide, and inference rescales each image the same way, from a diameter the user gives or one
estimated from the image itself (as cellpose does).
"""

from __future__ import annotations

import cv2
import numpy as np

# Rescaling beyond these factors is refused: the image would be mostly interpolation, or objects
# would fall below a few pixels.
MIN_SCALE, MAX_SCALE = 0.2, 5.0


def equivalent_diameters(labels: np.ndarray) -> np.ndarray:
    """Diameter of the disc with each object's area, in pixels (one value per object present)."""
    areas = np.bincount(np.asarray(labels).ravel())[1:]
    areas = areas[areas > 0]
    return np.sqrt(4.0 * areas / np.pi)


def median_diameter(labels: np.ndarray) -> float | None:
    """Median equivalent diameter of the objects, or None without objects."""
    diameters = equivalent_diameters(labels)
    return float(np.median(diameters)) if len(diameters) else None


def scale_for(diameter: float | None, model_diameter: float) -> float:
    """Factor that turns objects `diameter` px wide into `model_diameter` px (1 when unknown)."""
    if not diameter or diameter <= 0:
        return 1.0
    return float(np.clip(model_diameter / diameter, MIN_SCALE, MAX_SCALE))


def scaled_shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    return tuple(max(1, int(round(n * scale))) for n in shape)


def resize_planes(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(C, H, W) -> (C, *shape) float32: area averaging when shrinking (no aliasing), bilinear
    when enlarging."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape[-2:] == tuple(shape):
        return image
    shrink = shape[0] * shape[1] < image.shape[-2] * image.shape[-1]
    method = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    # OpenCV takes (width, height) and at most 512 channels, so channels go one at a time.
    return np.stack([cv2.resize(c, (shape[1], shape[0]), interpolation=method) for c in image])


def resize_labels(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label image (labels are names, never averaged)."""
    labels = np.asarray(labels)
    if labels.shape == tuple(shape):
        return labels
    dtype = labels.dtype
    work = labels.astype(np.int32 if labels.max() < 2**31 else np.float64)
    out = cv2.resize(work, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return out.astype(dtype)
