"""What a package says about itself: the README model card and the cover image.

The README is built from the checkpoint's stored config and model card (`img2img info`), and
states what the package's outputs are and what the spec could not carry (label decoding, the
mapping of percentile-normalized outputs back to intensities), so nobody mistakes raw maps for labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from img2img.io.images import write_image

KIND_TEXT = {
    "pix2pix": "Pix2Pix (U-Net or ResNet generator trained with L1 and a conditional PatchGAN)",
    "cyclegan": "CycleGAN (two ResNet generators trained on unpaired folders with cycle consistency)",
    "superres": "super-resolution (SRResNet/RRDB generator, L1 then L1 + PatchGAN)",
    "colorize": "colorization / virtual staining (U-Net generator, L1 + conditional PatchGAN)",
    "inpaint": "inpainting (gated convolutions from a biharmonic fill, L1 + PatchGAN)",
}


def readme(*, name: str, card_text: str, model_name: str, task: str, scaling_meaning: str, input_note: str,
           differences: dict[str, float], tolerance: float, notes: list[str]) -> str:
    lines = [f"# {name}", "", f"An img2img {KIND_TEXT.get(model_name, model_name)} model, task: {task}.", "",
             "## Inputs and outputs", "", f"- Input: {input_note}", f"- Output: {scaling_meaning}."]
    lines += [f"- {note}" for note in notes]
    lines += ["", "## Model card", "", "```", card_text.rstrip(), "```", "",
              "## Validation", "",
              "The validation metrics measured during training, and the baseline they are compared with, are "
              "in the model card above (where the checkpoint recorded them). To validate on your own images, run "
              "`img2img evaluate --model THIS_PACKAGE.zip --input IMAGES --target TRUTH`, which scores the model "
              "and a classical baseline in one table.", "",
              "The exported weights were checked against img2img's own Predictor on the test input before the "
              f"package was written (maximum absolute difference of the network output on its [-1, 1] scale; "
              f"tolerance {tolerance:g}):", ""]
    lines += [f"- {fmt}: {diff:.2e}" for fmt, diff in differences.items()]
    lines += ["", "## Limits", "",
              "- The network sees what its training data showed; images from other instruments, stains or "
              "magnifications may need fine-tuning (`img2img train --init`).",
              "- The package declares no halo: consumers that tile should overlap tiles by about the receptive field "
              "given above and drop the borders; img2img blends overlapping tiles itself.", ""]
    return "\n".join(lines)


def write_cover(path: Path, image: np.ndarray, output: np.ndarray) -> Path:
    """Input beside output, 8-bit, each channel stretched to its 1-99.8 percentiles; output of
    other sizes (super-resolution) gets the input enlarged to match."""
    left, right = _display(image), _display(output)
    if left.shape[:2] != right.shape[:2]:
        fy, fx = right.shape[0] // left.shape[0], right.shape[1] // left.shape[1]
        left = np.repeat(np.repeat(left, fy, axis=0), fx, axis=1)
    return write_image(path, np.concatenate([left, right], axis=1), axes="YXC")


def _display(planes: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, 3) uint8: RGB as it is, other channel counts as the first channel in gray."""
    x = planes.astype(np.float32)
    x = x[:3] if len(x) == 3 else np.repeat(x[:1], 3, axis=0)
    lo, hi = np.percentile(x, [1, 99.8])
    unit = np.clip((x - lo) / max(hi - lo, 1e-6), 0, 1)
    return np.ascontiguousarray((unit * 255).round().astype(np.uint8).transpose(1, 2, 0))
