"""End-to-end inference throughput and peak memory: our `img2img infer` path against a plain loop.

    python benchmarks/infer_throughput.py                  # 3 x 2048 px 16-bit TIFFs, every model kind
    python benchmarks/infer_throughput.py --large 4096     # also: one 4096 px file, both paths
    python benchmarks/infer_throughput.py --big 16384      # also: peak memory on one 16k x 16k image

Both paths read the TIFFs, normalize (1-99.8 percentiles), run the model, map back to 16 bits
(segmentation: decode labels) and write TIFFs. The reference is what a script would do
(`kinds.reference_loop`): float32, eager, batch 1, naive non-overlapping 512 px tiles (seams and
all). Ours: `Predictor` with its defaults, exactly as `img2img infer` runs without options:
overlapping blended tiles, the precision, layout, compile and batch it picks for the device,
background reading and writing. Each run is a fresh process, so peak resident memory (ru_maxrss)
is its own. Models: see `kinds.py` (random weights, except the built-in trained segmenter).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import tifffile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kinds import KINDS, LABELS, PREDICTOR_OPTIONS, make_images, make_model, reference_loop  # noqa: E402


def our_path(model, kind: str, files: list[Path], out: Path, device: str, tile: int | None, precision: str = "auto",
             compile: str = "auto") -> dict:
    from img2img.inference import Predictor
    from img2img.inference.batch import run_files
    from img2img.inference.outputs import plan_outputs

    predictor = Predictor(model, device=device, tile=tile, precision=precision, compile=compile,
                          **PREDICTOR_OPTIONS.get(kind, {}))
    report = run_files(predictor, plan_outputs(files, out), progress=False)
    assert not report.failures, report.failures
    return {"precision": predictor.precision, "tile": predictor.tile, "overlap": predictor.overlap,
            "batch": predictor.batch_size, "channels_last": predictor.channels_last,
            "compiled": predictor._compiled is not None}


def settings_text(s: dict) -> str:
    layout = "NHWC" if s["channels_last"] else "NCHW"
    return f"{s['precision']}, tile {s['tile']}, overlap {s['overlap']}, batch {s['batch']}, {layout}, " + \
           ("compiled" if s["compiled"] else "eager")


def _measure(path, kind, files, out, device, tile, precision, compile, small, queue):
    model = make_model(kind, small)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    if path == "reference":
        reference_loop(model, files, out, device)
        settings = None
    else:
        settings = our_path(model, kind, files, out, device, tile, precision, compile)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    megapixels = sum(tifffile.TiffFile(f).pages.first.shape[0] * tifffile.TiffFile(f).pages.first.shape[1] for f in files) / 1e6
    queue.put({"seconds": seconds, "mp_s": megapixels / seconds, "settings": settings or {},
               "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
               "peak_gpu_gb": torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None})


def measure(path, kind, files, out, device, tile=None, precision="auto", compile="auto", small=False,
            fresh_process=True) -> dict:
    """Run one measurement, by default in a fresh process, so its peak memory is its own (in this
    process, peak RSS is the whole session's so far)."""
    if not fresh_process:
        results: list[dict] = []

        class Collect:
            put = results.append

        _measure(path, kind, files, out, device, tile, precision, compile, small, Collect)
        return results[0]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(path, kind, files, out, device, tile, precision, compile, small, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:
            if not process.is_alive():
                raise SystemExit(f"{path} run of {kind} failed (exit code {process.exitcode})") from None
    process.join()
    return result


def compare(kind, files, out: Path, device, tile=None, precision="auto", compile="auto", small=False,
            fresh_process=True) -> tuple[dict, dict]:
    """The reference loop's and our path's measurements on the same files."""
    ref = measure("reference", kind, files, out / f"ref_{kind}", device, small=small, fresh_process=fresh_process)
    ours = measure("ours", kind, files, out / f"ours_{kind}", device, tile, precision, compile, small, fresh_process)
    return ref, ours


def rows(kind: str, files: list[Path], ref: dict, ours: dict) -> list[str]:
    what = f"{len(files)} x {tifffile.TiffFile(files[0]).pages.first.shape[0]}²"
    return [f"| {LABELS[kind]} | {what} | reference loop | {ref['mp_s']:.3f} | 1.00 | {ref['peak_rss_gb']:.2f} | float32, 512 px tiles, no overlap |",
            f"| {LABELS[kind]} | {what} | img2img infer | {ours['mp_s']:.3f} | **{ours['mp_s'] / ref['mp_s']:.2f}** | "
            f"{ours['peak_rss_gb']:.2f} | {settings_text(ours['settings'])} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(KINDS), help=f"model kinds, from {', '.join(KINDS)}")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--large", type=int, help="also compare both paths on one SIZE x SIZE file")
    parser.add_argument("--tile", type=int, help="our tile size (default: Predictor's choice for the device)")
    parser.add_argument("--precision", default="auto", help="our path's --precision")
    parser.add_argument("--compile", default="auto", help="our path's --compile: auto, on or off")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--big", type=int, help="also run one SIZE x SIZE image through our path for peak memory")
    parser.add_argument("--big-model", default="pix2pix")
    parser.add_argument("--workdir", type=Path, help="where to write images (default: a temporary folder)")
    args = parser.parse_args()

    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        files = make_images(tmp / "in", args.files, args.size)
        large = make_images(tmp / "large", 1, args.large) if args.large else None
        print(f"device: {device_name}; torch {torch.__version__}\n")
        print("| model | files | path | MP/s | ratio | peak RSS (GB) | settings |")
        print("|---|---|---|---:|---:|---:|---|")
        for kind in args.models.split(","):
            for batch in ([files] if files else []) + ([large] if large else []):  # --files 0: the large file only
                ref, ours = compare(kind, batch, tmp / f"out_{len(batch)}", args.device, args.tile, args.precision, args.compile)
                for row in rows(kind, batch, ref, ours):
                    print(row, flush=True)
        if args.big:
            big = make_images(tmp / "big", 1, args.big, compress=False)
            result = measure("ours", args.big_model, big, tmp / "big_out", args.device, args.tile, args.precision, args.compile)
            print(f"\n{args.big} x {args.big} uint16 ({args.big ** 2 * 2 / 2**30:.2f} GB) through img2img infer with {args.big_model}: "
                  f"{result['seconds']:.0f} s, {result['mp_s']:.2f} MP/s, peak RSS {result['peak_rss_gb']:.2f} GB")


if __name__ == "__main__":
    main()
