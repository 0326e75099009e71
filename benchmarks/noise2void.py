"""Noise2Void (trained on noisy images alone) against the supervised Pix2Pix denoiser (noisy ->
clean pairs), a Gaussian filter and non-local means, on held-out synthetic low-light nuclei
(`img2img synth denoise`) and filaments (`img2img synth filaments`).

Both networks are the same U-Net (depth 3, 32 base channels, batch norm, bilinear up-sampling)
trained for the same number of steps on the same 64 px crops, 16 a batch; only the loss differs
(N2V: blind-spot MSE on the noisy images; Pix2Pix: L1 to the clean target plus a weak LSGAN term).
Scores: `img2img evaluate` (PSNR and SSIM over the fixed camera range, plain and scale-invariant).

    OMP_NUM_THREADS=1 python benchmarks/noise2void.py --work /tmp/n2v            # everything
    python benchmarks/noise2void.py --work /tmp/n2v --summary-only                 # tables from finished runs

Writes WORK/summary.md (means and per-image comparisons) and WORK/per_image.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import yaml

DATASETS = {  # name: (synth kind, fixed camera range: offset 100 ADU up to above the brightest clean pixels)
    "den": ("denoise", 600),
    "fil": ("filaments", 1100),
}
UNET = {"kind": "unet", "depth": 3, "base_channels": 32, "norm": "batch", "dropout": 0.0, "upsample": "bilinear"}
MODELS = {
    "n2v": {"name": "n2v", "generator": UNET},
    "p2p": {"name": "pix2pix", "generator": UNET, "discriminator": {"base_channels": 32, "n_layers": 3},
            "l1_weight": 100, "gan_weight": 0.1, "gan_mode": "lsgan"},
}
METHODS = ("n2v", "p2p", "gaussian", "nl_means", "input")


def config(work: Path, model: str, dataset: str, steps: int, extra: dict | None = None) -> dict:
    kind, top = DATASETS[dataset]
    folder = work / f"{dataset}_train"
    data = {"image_dir": str(folder / "images")} if model.startswith("n2v") else \
        {"input_dir": str(folder / "images"), "target_dir": str(folder / "targets")}
    return {
        "task": "translation", "model": {**MODELS[model.split("_")[0]], **(extra or {})},
        "data": {**data, "val_fraction": 0.1, "patch_size": 64, "batch_size": 16, "patches_per_image": 8,
                 "num_workers": 0},
        "normalization": {"mode": "fixed", "min_value": 100, "max_value": top},
        "augmentation": {"brightness_contrast": 0.0, "gamma": 0.0, "blur": 0.0, "noise": 0.0},
        "optimizer": {"lr": 4e-4}, "schedule": {"steps": steps, "decay": "linear", "decay_start": 0.5},
        "trainer": {"accelerator": "cpu", "val_every_steps": max(1, steps // 4), "precision": "32", "samples": 2},
        "output_dir": str(work / "runs" / f"{model}_{dataset}"), "seed": 0,
    }


def run(work: Path, steps: int, n_train: int, n_test: int) -> None:
    from img2img.config import validate_config
    from img2img.data.synthetic import write_synthetic_dataset
    from img2img.evaluation.translation import evaluate_translation
    from img2img.evaluation.translation_report import write_report
    from img2img.inference.predictor import Predictor
    from img2img.training import train

    for dataset, (kind, _) in DATASETS.items():
        for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
            if not (work / f"{dataset}_{split}").exists():
                write_synthetic_dataset(kind, work / f"{dataset}_{split}", n=n, size=256, seed=seed, progress=False)
        for model in MODELS:
            raw = config(work, model, dataset, steps)
            (work / f"{model}_{dataset}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
            start = time.perf_counter()
            best = train(validate_config(raw), progress=False)
            print(f"{model} {dataset}: trained in {time.perf_counter() - start:.0f} s")
            evaluation = evaluate_translation(Predictor.from_checkpoint(best, device="cpu"), work / f"{dataset}_test/images",
                                              work / f"{dataset}_test/targets", progress=False)
            write_report(evaluation, Path(raw["output_dir"]) / "eval", title=f"{model} on {kind}")


def summarize(work: Path, runs: dict[str, str]) -> str:
    """Tables from each run's eval/metrics.json; `runs` maps a method name to a run folder prefix."""
    lines, rows = [], []
    for dataset, (kind, top) in DATASETS.items():
        per_image: dict[str, dict[str, dict]] = {}
        present = {m: p for m, p in runs.items() if (work / "runs" / f"{p}_{dataset}" / "eval" / "metrics.json").is_file()}
        if not present:  # nothing of this data set has finished yet
            continue
        for method, prefix in present.items():
            metrics = json.loads((work / "runs" / f"{prefix}_{dataset}" / "eval" / "metrics.json").read_text())
            for row in metrics["per_image"]:
                scores = per_image.setdefault(row["name"], {})
                scores[method] = row["model"]
                for baseline in ("gaussian", "nl_means", "input"):
                    scores[baseline] = row[baseline]
        names = sorted(per_image)
        methods = [*present, "gaussian", "nl_means", "input"]
        lines += [f"### {kind} ({len(names)} held-out 256 px images, range 100..{top} ADU)", "",
                  "| method | PSNR (dB) | SSIM | PSNR s.i. (dB) | SSIM s.i. |", "| --- | ---: | ---: | ---: | ---: |"]
        for method in methods:
            means = [sum(per_image[n][method][k] for n in names) / len(names) for k in ("psnr", "ssim", "psnr_si", "ssim_si")]
            lines.append(f"| {method} | {means[0]:.2f} | {means[1]:.3f} | {means[2]:.2f} | {means[3]:.3f} |")
        lines += [f"- {method}: not run" for method in runs if method not in present] + [""]
        first = next(iter(present))
        for other in methods[1:]:
            if other == "input":
                continue
            worse = [n for n in names if per_image[n][first]["psnr"] < per_image[n][other]["psnr"]]
            gaps = [per_image[n][first]["psnr"] - per_image[n][other]["psnr"] for n in names]
            lines.append(f"- {first} vs {other}: PSNR lower on {len(worse)} of {len(names)} images "
                         f"(difference {min(gaps):+.2f} .. {max(gaps):+.2f} dB)")
        lines.append("")
        for name in names:
            rows.append({"dataset": kind, "image": name, **{f"{m}_{k}": round(per_image[name][m][k], 4)
                                                             for m in methods for k in ("psnr", "ssim", "psnr_si", "ssim_si")}})
    with open(work / "per_image.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--n-train", type=int, default=60)
    parser.add_argument("--n-test", type=int, default=12)
    parser.add_argument("--summary-only", action="store_true", help="only the tables, from finished runs")
    parser.add_argument("--runs", default="n2v=n2v,p2p=p2p",
                        help="method=run prefix pairs to tabulate, the first compared with the rest (default n2v=n2v,p2p=p2p)")
    args = parser.parse_args()
    if not args.summary_only:
        run(args.work, args.steps, args.n_train, args.n_test)
    runs = dict(item.split("=") for item in args.runs.split(","))
    text = summarize(args.work, runs)
    (args.work / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
