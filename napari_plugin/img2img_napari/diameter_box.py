"""The Run widget's "object diameter (px)" setting.

A segmenter trained at one object size (`segmentation.object_diameter`) finds objects best when
the image is rescaled so its objects have that size. The user can give their objects' width, or
leave it at auto (0 shows as "auto") and let the Predictor measure it on each plane. Models
trained on images as stored cannot rescale, so the box is disabled for them.
"""

from __future__ import annotations

from qtpy.QtWidgets import QDoubleSpinBox

from img2img.inference.object_scale import ObjectScale, parse_diameter

AUTO = 0.0
NOT_APPLICABLE = "this model reads images as stored: it was not trained at an object size"


class DiameterBox(QDoubleSpinBox):
    def __init__(self) -> None:
        super().__init__()
        self.setRange(AUTO, 5000.0)
        self.setDecimals(1)
        self.setSingleStep(1.0)
        self.setSpecialValueText("auto")
        self.restore_default()

    def restore_default(self) -> None:
        self.setValue(AUTO)

    def follow_model(self, trained_diameter: float | None) -> None:
        """Enable the box for models trained at an object size, and say which size."""
        self.setEnabled(trained_diameter is not None)
        self.setToolTip(NOT_APPLICABLE if trained_diameter is None else
                        f"Width of your objects in pixels of this image; auto measures it. The model was trained "
                        f"on objects {trained_diameter:g} px wide and rescales the image to match.")

    @property
    def diameter(self) -> float | str | None:
        """What the Predictor gets: None when the model takes no object size, else 'auto' or px."""
        if not self.isEnabled():
            return None
        return parse_diameter("auto" if self.value() == AUTO else self.value())


def used_diameter_text(scale: ObjectScale, planes: int) -> str:
    """The status line's account of the object size a run used ('' when the model takes none)."""
    if not scale.active:
        return ""
    if scale.diameter != "auto":
        return f"object diameter {scale.diameter:g} px (given)"
    if scale.last_diameter is None:
        return "object diameter could not be measured (no objects found); images were not rescaled"
    where = " on the last plane" if planes > 1 else ""
    return f"object diameter estimated {scale.last_diameter:.1f} px{where}"
