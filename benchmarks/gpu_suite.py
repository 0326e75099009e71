"""Every speed goal in one command: training and inference of every model kind against the plain
reference loop, in one process, with peak GPU memory, printed as one table.

    python benchmarks/gpu_suite.py                 # on one GPU: sized to finish in under 8 minutes
    python benchmarks/gpu_suite.py --small         # anywhere, tiny networks and images (tests run this on CPU)

Rows run in order of the goals they check (Pix2Pix and CycleGAN training at 256 px, then ResNet-9
and U-Net-256 inference, then the other kinds) and stop, marked "skipped", once `--budget-s` is
spent, so a slow device still prints what it measured. The reference loops are the ones in
`train_throughput.py` and `kinds.py`; our paths are `train()` and `Predictor` with their defaults.
Goals (docs/benchmarks.md): training >= 15x the reference for CycleGAN and Pix2Pix at 256 px;
inference >= 250 MP/s for ResNet-9 and >= 1,000 MP/s for U-Net-256 end to end from 16-bit TIFFs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import infer_throughput  # noqa: E402
import train_throughput  # noqa: E402
from kinds import LABELS as INFER_LABELS, make_images  # noqa: E402


@dataclass(frozen=True)
class Plan:
    train_size: int
    train_batches: dict[str, list[int | None]]  # kind -> our batch sizes
    warmup: int
    steps: int
    files: int
    size: int
    small: bool
    compile_rows: tuple[str, ...] = ()  # inference kinds also run with compile on (folders that repay it)


FULL = Plan(train_size=256, warmup=5, steps=15, files=16, size=2048, small=False,
            train_batches={"pix2pix": [1, 16], "cyclegan": [1, 16], "superres": [16], "inpaint": [16], "colorize": [16],
                           "n2v": [16]},
            compile_rows=("cyclegan", "pix2pix"))
SMALL = Plan(train_size=32, warmup=1, steps=2, files=1, size=96, small=True,
             train_batches={"pix2pix": [1], "cyclegan": [1], "superres": [1], "inpaint": [1], "colorize": [1],
                            "n2v": [1]})
# (what, kind) in the order the goals need them.
ORDER = [("train", "pix2pix"), ("train", "cyclegan"), ("infer", "cyclegan"), ("infer", "pix2pix"),
         ("infer", "segmentation"), ("infer", "superres"), ("infer", "inpaint"), ("infer", "colorize"),
         ("infer", "n2v"), ("train", "superres"), ("train", "inpaint"), ("train", "colorize"), ("train", "n2v")]


def run(plan: Plan, device: str, budget_s: float, work: Path) -> list[str]:
    """The table's lines; rows past the budget are listed as skipped."""
    start = time.perf_counter()
    lines = ["| what | model | size | path | batch | throughput | ratio | peak GPU GB | settings |",
             "|---|---|---|---|---:|---:|---:|---:|---|"]
    files = make_images(work / "in", plan.files, plan.size, compress=False)
    shown = len(lines)
    for what, kind in ORDER:
        if time.perf_counter() - start > budget_s:
            lines.append(f"| {what} | {kind} | | skipped: {budget_s:.0f} s budget spent | | | | | |")
            continue
        if what == "train":
            rows = train_throughput.measure_kind(kind, plan.train_size, plan.train_batches[kind], device, plan.warmup,
                                                 plan.steps, work, workers=0 if plan.small else None)
            lines += [train_line(row) for row in rows]
        else:
            for compile in ("auto", "on") if kind in plan.compile_rows else ("auto",):
                ref, ours = infer_throughput.compare(kind, files, work / f"out_{kind}_{compile}", device, compile=compile,
                                                     small=plan.small, fresh_process=False)
                lines += infer_lines(kind, f"{plan.files} x {plan.size}²", ref, ours, compile)
        print("\n".join(lines[shown:]), flush=True)
        shown = len(lines)
    return lines


def train_line(row: tuple) -> str:
    kind, size, path, batch, rate, ratio, _tflops, peak, settings = row
    memory = "" if peak is None else f"{peak:.2f}"
    return (f"| train | {train_throughput.LABELS[kind]} | {size} px | {path} | {batch} | {rate:.3g} img/s | "
            f"{ratio:.3g} | {memory} | {settings} |")


def infer_lines(kind: str, what: str, ref: dict, ours: dict, compile: str) -> list[str]:
    def memory(result):
        return "" if result["peak_gpu_gb"] is None else f"{result['peak_gpu_gb']:.2f}"

    path = "img2img infer" + ("" if compile == "auto" else f" --compile {compile}")
    return [f"| infer | {INFER_LABELS[kind]} | {what} | reference loop | 1 | {ref['mp_s']:.3g} MP/s | 1.00 | {memory(ref)} | "
            "float32, 512 px tiles, no overlap |",
            f"| infer | {INFER_LABELS[kind]} | {what} | {path} | {ours['settings']['batch']} | {ours['mp_s']:.3g} MP/s | "
            f"{ours['mp_s'] / ref['mp_s']:.2f} | {memory(ours)} | {infer_throughput.settings_text(ours['settings'])} |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny networks and images: a smoke run for any device")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--budget-s", type=float, default=360.0,
                        help="start no new row after this many seconds (a row started before may run on)")
    args = parser.parse_args(argv)
    plan = SMALL if args.small else FULL
    name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "CPU"
    print(f"device: {name}; torch {torch.__version__}; plan {'small' if args.small else 'full'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        lines = run(plan, args.device, args.budget_s, Path(tmp))
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
