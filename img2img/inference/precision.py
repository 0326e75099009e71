"""Whether a model may run in bf16: judged on what it makes of a fixed probe, by its task's own measure.

bf16 autocast runs two to five times faster than float32 on GPUs and on CPUs with bf16 matrix
units, but it rounds every convolution's inputs to 8 significant bits. Whether that matters depends
on what the output is for, so the test is the task's, not a raw difference of network outputs
(which rejected bf16 for a ResNet-9 whose error changes nothing a user would measure):

- segmentation: the labels decoded from the bf16 maps must match the float32 labels on at least
  99.5% of the pixels of a synthetic nucleus image;
- image models: the bf16 output, taken as a noisy copy of the float32 output, must cost at most
  0.1 dB of the model's PSNR. An error of mean square e added to a model whose own error is m
  changes its PSNR by 10 log10(1 + e/m) dB (bf16 rounding is not correlated with what the model
  gets wrong), which stays under 0.1 dB while the bf16-vs-float32 PSNR is at least the model's
  PSNR + 16.3 dB. The model's PSNR is its recorded validation PSNR where the checkpoint has one
  (CycleGAN: the PSNR its cycle reconstruction error stands for, `recorded_psnr`), else
  `ASSUMED_MODEL_PSNR` (between the project's own models: 23 dB super-resolution, 29 dB
  colorization, 35 dB inpainting holes, docs/restoration.md).

Where bf16 as a whole fails and the network is a ResNet, its residual blocks alone are tried in
bf16 with the full-resolution ends in float32 (`Predictor` precision "bf16-blocks", nets/resnet.py),
judged by the same measure: a random ResNet-9 was 43.6 dB from float32 in bf16 (fails the assumed
30 dB + 16.3) and 48.7 dB with bf16 in its blocks only (passes), which keeps most of bf16's speed,
since the blocks do about 77% of its work.

The probe is fixed (not the user's data), so the choice depends on the model and the device alone:
a file gives the same result alone or in a folder, in any order, sharded or resumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LABEL_AGREEMENT = 0.995  # fraction of pixels whose bf16 label is the float32 label's match
PSNR_LOSS_DB = 0.1  # the most bf16 may cost an image model, in dB of its PSNR
PSNR_MARGIN_DB = 10 * math.log10(1 / (10 ** (PSNR_LOSS_DB / 10) - 1))  # 16.3 dB
ASSUMED_MODEL_PSNR = 30.0  # dB on [0, 1], for models without a recorded validation PSNR
PROBE_SEED = 20261205


@dataclass(frozen=True)
class Verdict:
    """bf16 kept or not, and the measurement that decided it (for the warning and the docs)."""

    keep: bool
    measured: str


def required_psnr(model_psnr: float | None) -> float:
    """bf16-vs-float32 PSNR (dB, outputs on [0, 1]) that keeps the model's PSNR within 0.1 dB."""
    return (ASSUMED_MODEL_PSNR if model_psnr is None else model_psnr) + PSNR_MARGIN_DB


def output_psnr(reference: np.ndarray, other: np.ndarray) -> float:
    """PSNR of `other` against `reference`, both network outputs on [-1, 1] (peak 1 on [0, 1])."""
    mse = float(np.mean(((np.asarray(other, np.float64) - reference) / 2) ** 2))
    return math.inf if mse == 0 else -10 * math.log10(mse)


def label_agreement(reference: np.ndarray, other: np.ndarray) -> float:
    """Fraction of pixels whose label in `other` is the one matched to their `reference` label.

    Objects are matched one to one, largest overlaps first, and background to background, so
    renumbered but identical objects agree fully, while a split, merge, lost object or moved
    boundary counts against it."""
    reference, other = np.asarray(reference).ravel(), np.asarray(other).ravel()
    pairs, counts = np.unique(np.stack([reference, other]), axis=1, return_counts=True)
    agreeing = int(counts[(pairs[0] == 0) & (pairs[1] == 0)].sum())
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for k in np.argsort(-counts, kind="stable"):
        a, b = int(pairs[0, k]), int(pairs[1, k])
        if a and b and a not in taken_a and b not in taken_b:
            taken_a.add(a)
            taken_b.add(b)
            agreeing += int(counts[k])
    return agreeing / max(1, reference.size)


def judge_image(reference: np.ndarray, bf16: np.ndarray, model_psnr: float | None) -> Verdict:
    psnr, needed = output_psnr(reference, bf16), required_psnr(model_psnr)
    source = "its recorded validation PSNR" if model_psnr is not None else "an assumed model PSNR"
    return Verdict(psnr >= needed, f"bf16 output PSNR {psnr:.1f} dB against float32; {needed:.1f} dB needed "
                                   f"({source} {needed - PSNR_MARGIN_DB:.1f} dB + {PSNR_MARGIN_DB:.1f})")


def judge_labels(reference: np.ndarray, bf16: np.ndarray) -> Verdict:
    agreement = label_agreement(reference, bf16)
    return Verdict(agreement >= LABEL_AGREEMENT,
                   f"bf16 labels agree with float32 on {agreement:.2%} of the probe's pixels; {LABEL_AGREEMENT:.1%} needed")


def recorded_psnr(card: dict | None) -> float | None:
    """The model's own PSNR (dB on [0, 1]) as its checkpoint's model card recorded it, if at all.

    Paired models record `psnr`. CycleGAN has no target to score against; its recorded fidelity is
    the cycle reconstruction's mean absolute error on [-1, 1] (`loss_cycle`), read as the PSNR of a
    Laplace-distributed error of that mean (mean square = 2 x mean absolute², halved to [0, 1])."""
    validation = (card or {}).get("validation") or {}
    value = validation.get("psnr")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    l1 = validation.get("loss_cycle")
    if isinstance(l1, (int, float)) and math.isfinite(l1) and l1 > 0:
        return -10 * math.log10(2 * (l1 / 2) ** 2)
    return None


def image_probe(channels: int, side: int) -> np.ndarray:
    """(1, C, side, side) float32 in [-1, 1], the same for every call: smoothed noise with blobs
    and edges at several scales, as normalized microscopy looks to a network."""
    from scipy import ndimage

    noise = np.random.default_rng(PROBE_SEED).standard_normal((channels, side, side))
    field = sum(ndimage.gaussian_filter(noise, (0, s, s)) * s for s in (1, 4, 12))
    field -= field.min(axis=(1, 2), keepdims=True)
    field /= np.maximum(field.max(axis=(1, 2), keepdims=True), 1e-6)
    return (field * 2 - 1)[None].astype(np.float32)


def nucleus_probe(side: int) -> np.ndarray:
    """(side, side) uint16 synthetic fluorescence nuclei, the same for every call: a segmenter's
    probe must hold objects, or both precisions would agree on an empty label image."""
    from img2img.data.synthetic.cells import render_cells

    image, _labels = render_cells(np.random.default_rng(PROBE_SEED), (side, side))
    return image
