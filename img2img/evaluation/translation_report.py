"""Translation evaluation for people (a table, report.md, a figure) and programs (metrics.json)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from img2img.evaluation.report import save_figure  # noqa: E402
from img2img.evaluation.translation import TranslationEvaluation  # noqa: E402
from img2img.io.atomic import atomic_path  # noqa: E402

TITLES = {"model": "model", "input": "raw input", "gaussian": "gaussian filter", "nl_means": "non-local means",
          "bicubic": "bicubic upscaling", "telea": "OpenCV Telea inpainting", "biharmonic": "biharmonic inpainting",
          "gray": "gray input", "mean_chroma": "gray + mean chroma"}
COLUMNS = {"psnr": ("PSNR (dB)", "{:.2f}"), "ssim": ("SSIM", "{:.3f}"), "l1": ("L1", "{:.4f}"),
           "psnr_si": ("PSNR s.i. (dB)", "{:.2f}"), "ssim_si": ("SSIM s.i.", "{:.3f}"),
           "colorfulness": ("colorfulness", "{:.1f}")}


def _cells(summary: dict, method: str, metrics) -> list[str]:
    return [COLUMNS[k][1].format(summary[method][k]) for k in metrics]


def print_table(evaluation: TranslationEvaluation, console: Console | None = None) -> None:
    summary = evaluation.summary
    n = summary["model"]["n_images"]
    table = Table(title=f"Image quality on {n} held-out image(s); data range {evaluation.data_range}")
    for column in ("method", *(COLUMNS[k][0] for k in evaluation.metrics)):
        table.add_column(column, justify="left" if column == "method" else "right", no_wrap=column == "method")
    for method in evaluation.methods:
        table.add_row(TITLES.get(method, method), *_cells(summary, method, evaluation.metrics))
    (console or Console()).print(table)


def markdown_table(evaluation: TranslationEvaluation) -> str:
    summary = evaluation.summary
    heads = [COLUMNS[k][0] for k in evaluation.metrics]
    lines = ["| method | " + " | ".join(heads) + " |", "| --- |" + " ---: |" * len(heads)]
    lines += [f"| {TITLES.get(m, m)} | " + " | ".join(_cells(summary, m, evaluation.metrics)) + " |" for m in evaluation.methods]
    return "\n".join(lines)


def write_figure(evaluation: TranslationEvaluation, path: Path) -> Path:
    """One row per example: every method, then the target, all on the target's display range."""
    rows = evaluation.examples
    columns = evaluation.methods + ["target"]
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(4 * len(columns), 4 * len(rows)), squeeze=False)
    for r, example in enumerate(rows):
        lo, hi = np.percentile(example.truth, [1, 99.8])
        panels = [example.outputs[m] for m in evaluation.methods] + [example.truth]
        for c, (title, panel) in enumerate(zip(columns, panels)):
            ax = axes[r, c]
            image = np.clip((panel - lo) / max(hi - lo, 1e-6), 0, 1)
            ax.imshow(image[0] if image.shape[0] != 3 else image.transpose(1, 2, 0), cmap="gray")
            ax.set_title(f"{example.name}: {TITLES.get(title, title)}" if c == 0 else TITLES.get(title, title))
            ax.axis("off")
    return save_figure(fig, path)


def write_report(
    evaluation: TranslationEvaluation, folder: Path, title: str, notes: list[str] | None = None, extra: dict | None = None
) -> Path:
    """report.md + figure.png + metrics.json in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "metrics.json") as tmp:
        tmp.write_text(json.dumps({**evaluation.to_json(), **(extra or {})}, indent=2))
    write_figure(evaluation, folder / "figure.png")
    summary = evaluation.summary
    others = [m for m in evaluation.methods if m != "model"]
    best = max(others, key=lambda m: summary[m]["psnr"], default=None)
    verdict = (
        f"PSNR: model {summary['model']['psnr']:.2f} dB vs best baseline ({TITLES.get(best, best)}) "
        f"{summary[best]['psnr']:.2f} dB ({summary['model']['psnr'] - summary[best]['psnr']:+.2f} dB)."
        if best else "No baseline applies (input and target differ in channels)."
    )
    text = [
        f"# {title}", "", *(notes or []), "",
        f"PSNR and SSIM (torchmetrics) over the data range {evaluation.data_range}; values outside it are clipped."
        + (" s.i.: scale-invariant, each output first mapped by the linear fit a·x + b closest to its target "
           "(as CSBDeep and CAREamics score), so re-scaling brightness earns nothing." if "psnr_si" in evaluation.metrics
           else ""),
        *evaluation.notes, "", markdown_table(evaluation), "", verdict, "",
        "![methods and target](figure.png)", "", "Per-image numbers are in `metrics.json`.", "",
    ]
    with atomic_path(folder / "report.md") as tmp:
        tmp.write_text("\n".join(text))
    return folder / "report.md"
