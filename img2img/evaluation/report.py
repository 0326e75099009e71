"""Evaluation results for people (a table, report.md, a figure) and for programs (metrics.json,
per_image.csv)."""

from __future__ import annotations

import csv
import json
from functools import reduce
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from skimage.color import label2rgb  # noqa: E402

from img2img.evaluation.evaluate import METHODS, Evaluation  # noqa: E402
from img2img.segmentation.metrics import IOU_THRESHOLDS, threshold_key  # noqa: E402
from img2img.io.atomic import atomic_path  # noqa: E402

# (label, path into a scores dict) of the summary table's rows.
SUMMARY_ROWS = (
    ("F1 @IoU0.5", ("f1",)),
    ("precision @IoU0.5", ("precision",)),
    ("recall @IoU0.5", ("recall",)),
    ("accuracy @IoU0.5", ("accuracy",)),
    ("F1 @IoU0.75", ("thresholds", "0.75", "f1")),
    ("F1 @IoU0.9", ("thresholds", "0.9", "f1")),
    ("DSB score", ("dsb_score",)),
    ("PQ", ("pq",)),
    ("pixel IoU", ("pixel_iou",)),
    ("Dice", ("dice",)),
)
GROUP_ROWS = (("F1 @IoU0.5", ("f1",)), ("DSB score", ("dsb_score",)))
# per_image.csv: each method's columns, named METHOD_KEY.
CSV_COLUMNS = (
    ("f1", ("f1",)), ("precision", ("precision",)), ("recall", ("recall",)), ("accuracy", ("accuracy",)),
    ("f1@0.75", ("thresholds", "0.75", "f1")), ("f1@0.9", ("thresholds", "0.9", "f1")),
    ("dsb_score", ("dsb_score",)), ("pq", ("pq",)), ("pixel_iou", ("pixel_iou",)), ("dice", ("dice",)),
    ("tp", ("tp",)), ("fp", ("fp",)), ("fn", ("fn",)),
)
N_WORST = 5


def score(scores: dict, path: tuple[str, ...]):
    """scores["thresholds"]["0.75"]["f1"] for path ("thresholds", "0.75", "f1")."""
    return reduce(lambda d, key: d[key], path, scores)


def print_table(evaluation: Evaluation, console: Console | None = None) -> None:
    """The summary rows, then F1 and DSB score of each group."""
    summary = evaluation.summary
    n = summary["model"]["n_images"]
    table = Table(title=f"Segmentation on {n} held-out image(s)")
    table.add_column("metric")
    table.add_column("model", justify="right")
    table.add_column(f"baseline ({evaluation.baseline_name})", justify="right")
    for label, path in SUMMARY_ROWS:
        table.add_row(label, *(f"{score(summary[m], path):.3f}" for m in METHODS))
    for group, scores in (evaluation.by_group or {}).items():
        table.add_section()
        for label, path in GROUP_ROWS:
            name = f"{group} ({scores['model']['n_images']}): {label}"
            table.add_row(name, *(f"{score(scores[m], path):.3f}" for m in METHODS))
    (console or Console()).print(table)


def markdown_table(evaluation: Evaluation) -> str:
    summary = evaluation.summary
    lines = [f"| metric | model | baseline ({evaluation.baseline_name}) |", "| --- | ---: | ---: |"]
    for label, path in SUMMARY_ROWS:
        lines.append(f"| {label} | {score(summary['model'], path):.3f} | {score(summary['baseline'], path):.3f} |")
    return "\n".join(lines)


def threshold_table(evaluation: Evaluation) -> str:
    """F1 and accuracy = TP / (TP + FP + FN) at each IoU threshold."""
    summary = evaluation.summary
    lines = ["| IoU | model F1 | model accuracy | baseline F1 | baseline accuracy |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for t in IOU_THRESHOLDS:
        cells = [f"{summary[m]['thresholds'][threshold_key(t)][k]:.3f}" for m in METHODS for k in ("f1", "accuracy")]
        lines.append(f"| {t:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def group_table(evaluation: Evaluation) -> str:
    lines = ["| group | images | model F1 @IoU0.5 | baseline F1 @IoU0.5 | model DSB score | baseline DSB score |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for group, scores in (evaluation.by_group or {}).items():
        cells = [f"{scores[m][k]:.3f}" for k in ("f1", "dsb_score") for m in METHODS]
        lines.append(f"| {group} | {scores['model']['n_images']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def worst_table(evaluation: Evaluation, n: int = N_WORST) -> str:
    """The images where the model's F1 at IoU 0.5 is lowest, with their counts."""
    rows = sorted(evaluation.per_image, key=lambda r: (r["model"]["f1"], r["name"]))[:n]
    lines = ["| image | group | model F1 | model TP / FP / FN | baseline F1 | model DSB score |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        m = r["model"]
        lines.append(f"| {r['name']} | {r.get('group') or '-'} | {m['f1']:.3f} | {m['tp']} / {m['fp']} / {m['fn']} | "
                     f"{r['baseline']['f1']:.3f} | {m['dsb_score']:.3f} |")
    return "\n".join(lines)


def write_per_image(evaluation: Evaluation, path: Path) -> Path:
    """per_image.csv: name, group and each method's key numbers, one row per image."""
    header = ["name", "group"] + [f"{m}_{column}" for m in METHODS for column, _ in CSV_COLUMNS]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in evaluation.per_image:
            values = [score(r[m], p) for m in METHODS for _, p in CSV_COLUMNS]
            values = [f"{v:.4f}" if isinstance(v, float) else v for v in values]
            writer.writerow([r["name"], r.get("group") or ""] + values)
    return path


def write_metrics(evaluation: Evaluation, path: Path, extra: dict | None = None) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({**evaluation.to_json(), **(extra or {})}, indent=2))
    return path


def write_figure(evaluation: Evaluation, path: Path) -> Path:
    """One row per example (worst model F1 first): input | model | baseline | ground truth, objects
    in random colours, titled with the image's name, group and F1 of model and baseline."""
    rows = evaluation.examples
    fig, axes = plt.subplots(len(rows), 4, figsize=(16, 4 * len(rows)), squeeze=False)
    for r, example in enumerate(rows):
        group = example.row.get("group")
        f1 = {m: example.row[m]["f1"] for m in METHODS if m in example.row}
        titles = [
            f"{example.name}" + (f" ({group})" if group else ""),
            "model" + (f": F1 {f1['model']:.2f}" if f1 else ""),
            f"baseline ({evaluation.baseline_name})" + (f": F1 {f1['baseline']:.2f}" if f1 else ""),
            "ground truth",
        ]
        panels = [_display(example.image)] + [
            label2rgb(lab, bg_label=0) for lab in (example.prediction, example.baseline, example.truth)
        ]
        for c, panel in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(panel, cmap="gray" if panel.ndim == 2 else None)
            ax.set_title(titles[c])
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
    """report.md + figure.png + metrics.json (with `extra` facts such as training time) +
    per_image.csv in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    write_metrics(evaluation, folder / "metrics.json", extra)
    write_per_image(evaluation, folder / "per_image.csv")
    write_figure(evaluation, folder / "figure.png")
    summary = evaluation.summary
    gain = summary["model"]["f1"] - summary["baseline"]["f1"]
    polarity = f", objects {evaluation.objects}" if evaluation.baseline_name == "otsu_watershed" else ""
    groups = ["## Per group", "", group_table(evaluation), ""] if evaluation.groups is not None else []
    text = [
        f"# {title}",
        "",
        *(notes or []),
        "",
        markdown_table(evaluation),
        "",
        f"Object F1 at IoU 0.5: model {summary['model']['f1']:.3f} vs baseline {summary['baseline']['f1']:.3f} "
        f"({gain:+.3f}). Baseline: {evaluation.baseline_name}{polarity}. Counts are pooled over images (each "
        "object weighs the same); the DSB score (mean accuracy TP / (TP + FP + FN) over IoU 0.5..0.95, as in the "
        "Data Science Bowl 2018), pixel IoU and Dice are means over images. PQ = SQ x RQ at IoU 0.5.",
        "",
        "## By IoU threshold",
        "",
        threshold_table(evaluation),
        "",
        *groups,
        "## Worst images by model F1",
        "",
        worst_table(evaluation),
        "",
        "![input | model | baseline | ground truth](figure.png)",
        "",
        "Per-image numbers are in `per_image.csv` and, with every score, in `metrics.json`.",
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
