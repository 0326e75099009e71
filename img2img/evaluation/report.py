"""Evaluation results for people (a table, report.md, a figure) and for programs (metrics.json)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from skimage.color import label2rgb  # noqa: E402

from img2img.evaluation.evaluate import METRICS, Evaluation  # noqa: E402
from img2img.io.atomic import atomic_path  # noqa: E402

LABELS = {"pixel_iou": "pixel IoU", "dice": "Dice", "precision": "precision @IoU0.5", "recall": "recall @IoU0.5", "f1": "F1 @IoU0.5"}


def print_table(evaluation: Evaluation, console: Console | None = None) -> None:
    summary = evaluation.summary
    n = summary["model"]["n_images"]
    table = Table(title=f"Segmentation on {n} held-out image(s)")
    table.add_column("metric")
    table.add_column("model", justify="right")
    table.add_column(f"baseline ({evaluation.baseline_name})", justify="right")
    for key in METRICS:
        table.add_row(LABELS[key], f"{summary['model'][key]:.3f}", f"{summary['baseline'][key]:.3f}")
    (console or Console()).print(table)


def markdown_table(evaluation: Evaluation) -> str:
    summary = evaluation.summary
    lines = [f"| metric | model | baseline ({evaluation.baseline_name}) |", "| --- | ---: | ---: |"]
    lines += [f"| {LABELS[k]} | {summary['model'][k]:.3f} | {summary['baseline'][k]:.3f} |" for k in METRICS]
    return "\n".join(lines)


def write_metrics(evaluation: Evaluation, path: Path, extra: dict | None = None) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({**evaluation.to_json(), **(extra or {})}, indent=2))
    return path


def write_figure(evaluation: Evaluation, path: Path) -> Path:
    """One row per example: input | model | baseline | ground truth, objects in random colours."""
    rows = evaluation.examples
    titles = ["input", "model", f"baseline ({evaluation.baseline_name})", "ground truth"]
    fig, axes = plt.subplots(len(rows), 4, figsize=(16, 4 * len(rows)), squeeze=False)
    for r, example in enumerate(rows):
        panels = [_display(example.image)] + [
            label2rgb(lab, bg_label=0) for lab in (example.prediction, example.baseline, example.truth)
        ]
        for c, panel in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(panel, cmap="gray" if panel.ndim == 2 else None)
            ax.set_title(f"{example.name}: {titles[c]}" if c == 0 else titles[c])
            ax.axis("off")
    return save_figure(fig, path)


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure atomically and free it."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
    return path


def write_report(
    evaluation: Evaluation, folder: Path, title: str, notes: list[str] | None = None, extra: dict | None = None
) -> Path:
    """report.md + figure.png + metrics.json (with `extra` facts such as training time) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    write_metrics(evaluation, folder / "metrics.json", extra)
    write_figure(evaluation, folder / "figure.png")
    summary = evaluation.summary
    gain = summary["model"]["f1"] - summary["baseline"]["f1"]
    text = [
        f"# {title}",
        "",
        *(notes or []),
        "",
        markdown_table(evaluation),
        "",
        f"Object F1 at IoU 0.5: model {summary['model']['f1']:.3f} vs baseline {summary['baseline']['f1']:.3f} "
        f"({gain:+.3f}).",
        "",
        "![input | model | baseline | ground truth](figure.png)",
        "",
        "Per-image numbers are in `metrics.json`.",
        "",
    ]
    with atomic_path(folder / "report.md") as tmp:
        tmp.write_text("\n".join(text))
    return folder / "report.md"


def _display(image: np.ndarray) -> np.ndarray:
    """Percentile-stretch raw pixels (any dtype) for display."""
    img = image.astype(np.float32)
    lo, hi = np.percentile(img, [1, 99.8])
    img = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1)
    return img[..., :3] if img.ndim == 3 else img
