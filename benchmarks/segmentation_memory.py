"""Peak memory and time of `img2img infer --model builtin:nuclei` on one large uint16 image,
decoded in blocks (today) and as one whole plane (before; forced by raising
`blockwise.WHOLE_PLANE_PIXELS`), each in its own process.

    python benchmarks/segmentation_memory.py --sizes 8192 16384 --work /tmp/segmem

The image is a mosaic of 1024 px synthetic nucleus frames (`render_cells`, each also flipped and
turned), written straight into a memory-mapped TIFF so making it stays cheap. `--diameter 24`
(the model's own object size) is given, so no size estimate runs and the plane is not rescaled;
`--diameter 16` runs the rescaled path (maps made at 1.5x and resized back). Peak resident memory
is the child's `ru_maxrss` (os.wait4), which counts the memory-mapped input pages it touched.
Labels of the two paths are compared object by object. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile

FRAME = 1024
RUN = """
import sys
from img2img.segmentation import blockwise
if {whole}:
    blockwise.WHOLE_PLANE_PIXELS = 1 << 62
from img2img.cli import main
sys.exit(main({args!r}))
"""


def make_image(path: Path, side: int, seed: int = 0) -> Path:
    """A side x side uint16 mosaic of synthetic nucleus frames (16 renders, 8 orientations each)."""
    from img2img.data.synthetic import render_cells

    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    frames = [render_cells(np.random.default_rng(seed + k), (FRAME, FRAME))[0] for k in range(16)]
    tmp = path.with_suffix(".part.tif")
    image = tifffile.memmap(tmp, shape=(side, side), dtype=np.uint16)
    for y in range(0, side, FRAME):
        for x in range(0, side, FRAME):
            frame = np.rot90(frames[rng.integers(len(frames))], int(rng.integers(4)))
            image[y : y + FRAME, x : x + FRAME] = frame[:, ::-1] if rng.random() < 0.5 else frame
        image.flush()
    del image
    tmp.rename(path)
    return path


def run(image: Path, out: Path, whole: bool, diameter: str, probabilities: bool, limit_gb: float) -> dict:
    args = ["infer", str(image), "--model", "builtin:nuclei", "--output", str(out), "--diameter", diameter]
    args += ["--probabilities"] if probabilities else []
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    start = time.perf_counter()
    limit = int(limit_gb * 1e9)  # address space: a run that needs more fails with MemoryError, not the OOM killer

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    child = subprocess.Popen([sys.executable, "-c", RUN.format(whole=whole, args=args)], env=env, preexec_fn=cap)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    labels = out / (image.stem + ".tif")
    result = {"side": int(image.stem.split("_")[-1]), "path": "whole plane" if whole else "blocks",
              "diameter": diameter, "probabilities": probabilities, "exit": child.returncode,
              "peak_gb": usage.ru_maxrss * 1024 / 1e9, "seconds": seconds}
    if child.returncode == 0:
        with tifffile.TiffFile(labels) as tif:
            data = tif.asarray()
        result.update(objects=int(data.max()), dtype=str(data.dtype))
    return result


def compare(a_path: Path, b_path: Path, rows: int = 1024) -> tuple[int, int]:
    """(objects of either label image that are not exactly one object of the other, object pixels
    of the first outside the object of the second that overlaps theirs most)."""
    a, b = tifffile.imread(a_path), tifffile.imread(b_path)
    pairs: dict[int, int] = {}
    for y in range(0, a.shape[0], rows):
        pa, pb = a[y : y + rows].astype(np.int64).ravel(), b[y : y + rows].astype(np.int64).ravel()
        both = (pa > 0) | (pb > 0)
        keys, counts = np.unique(pa[both] << 32 | pb[both], return_counts=True)
        for key, count in zip(keys.tolist(), counts.tolist()):
            pairs[key] = pairs.get(key, 0) + count
    keys = np.array(sorted(pairs), np.int64)
    counts = np.array([pairs[k] for k in keys.tolist()], np.int64)
    first, second = keys >> 32, keys & 0xFFFFFFFF
    in_a, in_b = np.bincount(first), np.bincount(second)
    bad = (in_a[first] > 1) | (in_b[second] > 1) | (first == 0) | (second == 0)
    differing = len(set(first[bad].tolist()) - {0}) + len(set(second[bad].tolist()) - {0})
    best = np.zeros(len(in_a), np.int64)
    inside = (first > 0) & (second > 0)
    np.maximum.at(best, first[inside], counts[inside])
    return differing, int(counts[first > 0].sum() - best.sum())


HEADER = ["image", "decoding", "--diameter", "--probabilities", "peak RSS", "wall time", "objects", "labels",
          "objects differing from whole plane (pixels)"]


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: |"]
    for r in results:
        objects = f"{r['objects']:,}" if "objects" in r else f"failed (exit {r['exit']})"
        cells = [f"{r['side']:,}² uint16", r["path"], r["diameter"], "yes" if r["probabilities"] else "no",
                 f"{r['peak_gb']:.2f} GB", f"{r['seconds'] / 60:.1f} min", objects, r.get("dtype", ""),
                 f"{r['differing']} ({r.get('moved_px', 0)} px moved)" if "differing" in r else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8192, 16384])
    parser.add_argument("--paths", nargs="*", default=["blocks", "whole"], choices=["blocks", "whole"])
    parser.add_argument("--diameter", default="24")
    parser.add_argument("--probabilities", action="store_true", help="also run blocks with --probabilities")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation_memory"))
    parser.add_argument("--log", type=Path, help="append each result as a JSON line; the table shows the whole log")
    parser.add_argument("--limit-gb", type=float, default=20.0, help="address-space limit of each run")
    args = parser.parse_args()
    results = []
    for side in args.sizes:
        image = make_image(args.work / f"nuclei_{side}.tif", side)
        plan = [(path == "whole", False) for path in args.paths]
        plan += [(False, True)] if args.probabilities else []
        outputs = {}
        for whole, probabilities in plan:
            out = args.work / f"out_{side}_{'whole' if whole else 'blocks'}{'_prob' if probabilities else ''}"
            result = run(image, out, whole, args.diameter, probabilities, args.limit_gb)
            outputs[whole, probabilities] = out / (image.stem + ".tif")
            blocks = outputs.get((False, False))
            if whole and blocks is not None and blocks.is_file() and "objects" in result:
                result["differing"], result["moved_px"] = compare(outputs[True, False], blocks)
            results.append(result)
            print(json.dumps(result), flush=True)
            if args.log:
                with args.log.open("a") as log:
                    log.write(json.dumps(result) + "\n")
    if args.log:
        results = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    print(table(results))


if __name__ == "__main__":
    main()
