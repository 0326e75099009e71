"""End-to-end inference throughput and peak memory: our `img2img infer` path against a plain loop.

    python benchmarks/infer_throughput.py                 # 3 x 2048 px 16-bit TIFFs, ResNet-9 and U-Net-256
    python benchmarks/infer_throughput.py --big 16384     # also: peak memory on one 16k x 16k image

Both paths read the TIFFs, normalize (1-99.8 percentiles), run the generator, map back to
16 bits and write TIFFs. The reference is what a script would do: float32, eager, batch 1,
naive non-overlapping 512 px tiles (seams and all). Ours: overlapping blended tiles, the
precision, layout and batch `Predictor` picks for the device, background reading and writing.
Each run is a fresh process, so peak resident memory (ru_maxrss) is its own. Weights are
random: speed does not depend on what a network learned.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from img2img.config.schema import TrainConfig  # noqa: E402
from img2img.models.registry import build_model  # noqa: E402

MODELS = {
    "resnet9": {"kind": "resnet", "n_blocks": 9, "base_channels": 64, "norm": "instance"},
    "unet256": {"kind": "unet", "depth": 8, "base_channels": 64},
    "unet-small": {"kind": "unet", "depth": 5, "base_channels": 16},
}


def make_model(name: str):
    config = TrainConfig.model_validate({
        "task": "translation",
        "model": {"name": "pix2pix", "generator": {**MODELS[name], "dropout": 0.0}},
        "data": {"input_dir": "unused", "target_dir": "unused", "patch_size": 256},
    })
    torch.manual_seed(0)
    return build_model(config, 1, 1, "uint16", target_dtype="uint16").eval()


def make_images(folder: Path, n: int, size: int, compress: bool = True) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        image = rng.integers(200, 3000, (size, size), dtype=np.uint16)
        path = folder / f"frame_{i:03d}.tif"
        tifffile.imwrite(path, image, compression="zlib" if compress else None)
        paths.append(path)
    return paths


def reference_loop(model, files: list[Path], out: Path, device: str, tile: int = 512) -> None:
    net = model.generator.to(device).eval()
    out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        for path in files:
            image = tifffile.imread(path).astype(np.float32)
            lo, hi = np.percentile(image, [1, 99.8])
            x = ((image - lo) / (hi - lo) * 2 - 1).astype(np.float32)
            h, w = x.shape
            ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
            x = np.pad(x, [(0, ph - h), (0, pw - w)], mode="reflect")
            y = np.empty_like(x)
            for r in range(0, ph, tile):
                for c in range(0, pw, tile):
                    t = torch.from_numpy(np.ascontiguousarray(x[r : r + tile, c : c + tile]))[None, None].to(device)
                    y[r : r + tile, c : c + tile] = net(t)[0, 0].cpu().numpy()
            result = np.clip(np.rint((y[:h, :w] + 1) / 2 * (hi - lo) + lo), 0, 65535).astype(np.uint16)
            tifffile.imwrite(out / path.name, result, compression="zlib")


def our_path(model, files: list[Path], out: Path, device: str, tile: int | None, precision: str = "auto",
             compile: bool = False) -> dict:
    from img2img.inference import Predictor
    from img2img.inference.batch import run_files
    from img2img.inference.outputs import plan_outputs

    predictor = Predictor(model, device=device, tile=tile, precision=precision, compile=compile)
    report = run_files(predictor, plan_outputs(files, out), progress=False)
    assert not report.failures, report.failures
    return {"precision": predictor.precision, "tile": predictor.tile, "overlap": predictor.overlap,
            "batch": predictor.batch_size, "channels_last": predictor.channels_last, "compile": compile}


def _measure(kind, name, files, out, device, tile, precision, compile, queue):
    model = make_model(name)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    settings = reference_loop(model, files, out, device) if kind == "reference" else our_path(model, files, out, device, tile, precision, compile)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    megapixels = sum(tifffile.TiffFile(f).pages.first.shape[0] * tifffile.TiffFile(f).pages.first.shape[1] for f in files) / 1e6
    queue.put({"seconds": seconds, "mp_s": megapixels / seconds,
               "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "settings": settings or {}})


def measure(kind, name, files, out, device, tile=None, precision="auto", compile=False) -> dict:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(kind, name, files, out, device, tile, precision, compile, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:
            if not process.is_alive():
                raise SystemExit(f"{kind} run of {name} failed (exit code {process.exitcode})") from None
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet9,unet256")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--tile", type=int, help="our tile size (default: Predictor's choice for the device)")
    parser.add_argument("--precision", default="auto", help="our path's --precision (auto checks bf16 against float32)")
    parser.add_argument("--compile", action="store_true", help="our path with --compile (its compile time included)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--big", type=int, help="also run one SIZE x SIZE image through our path for peak memory")
    parser.add_argument("--big-model", default="unet-small")
    parser.add_argument("--workdir", type=Path, help="where to write images (default: a temporary folder)")
    args = parser.parse_args()

    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        files = make_images(tmp / "in", args.files, args.size)
        print(f"device: {device_name}; torch {torch.__version__}; {args.files} x {args.size}^2 uint16 TIFFs\n")
        print("| model | path | MP/s | ratio | peak RSS (GB) | settings |")
        print("|---|---|---:|---:|---:|---|")
        for name in args.models.split(","):
            ref = measure("reference", name, files, tmp / f"ref_{name}", args.device)
            ours = measure("ours", name, files, tmp / f"ours_{name}", args.device, args.tile, args.precision, args.compile)
            s = ours["settings"]
            print(f"| {name} | reference loop (fp32, batch 1, 512 px tiles, no overlap) | {ref['mp_s']:.3f} | 1.00 | {ref['peak_rss_gb']:.2f} | |")
            print(f"| {name} | img2img infer | {ours['mp_s']:.3f} | {ours['mp_s'] / ref['mp_s']:.2f} | {ours['peak_rss_gb']:.2f} | "
                  f"{s['precision']}, tile {s['tile']}, overlap {s['overlap']}, batch {s['batch']}, channels_last {s['channels_last']}, compile {s['compile']} |")
            sys.stdout.flush()
        if args.big:
            big = make_images(tmp / "big", 1, args.big, compress=False)
            result = measure("ours", args.big_model, big, tmp / "big_out", args.device, args.tile, args.precision)
            print(f"\n{args.big} x {args.big} uint16 ({args.big ** 2 * 2 / 2**30:.2f} GB) through img2img infer with {args.big_model}: "
                  f"{result['seconds']:.0f} s, {result['mp_s']:.2f} MP/s, peak RSS {result['peak_rss_gb']:.2f} GB")


if __name__ == "__main__":
    main()
