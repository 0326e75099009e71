"""Peak memory and time of writing one large OME-Zarr result: our streaming writer before (one
level, metadata by hand) and after (pyramid, labels/omero metadata through ome-zarr-py), against
writing the same pixels with ome-zarr-py's and ngff-zarr's own writers; optionally the whole
`img2img infer` from OME-Zarr to OME-Zarr with the code before and after.

    python benchmarks/ome_zarr_output.py --side 16384 --work /tmp/omezarr --old /tmp/img2img-before
    python benchmarks/ome_zarr_output.py --side 16384 --infer --old /tmp/img2img-before

`--old` is a checkout of the code before (e.g. `git worktree add /tmp/img2img-before bf7b7c8`).
The image is the uint16 nuclei mosaic of `segmentation_memory.py`, memory-mapped. Our writers get
it as the predictor hands results over, 256 full-width rows at a time; the libraries get a dask
array over the memory map (their most frugal input: they read it chunk by chunk themselves) and
their default pyramid. Each run is its own process; peak resident memory is its `ru_maxrss`
(os.wait4), which counts the memory-mapped pages it touched. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from segmentation_memory import make_image  # noqa: E402

WRITE = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np, tifffile
pixels = tifffile.memmap({image!r}, mode="r")
side = pixels.shape[0]
how = {how!r}
start = time.perf_counter()
if how in ("before", "after", "after-labels"):
    from img2img.io import ome_zarr
    extra = {{}} if how == "before" else {{"kind": "labels" if how == "after-labels" else "image"}}
    with ome_zarr.create({out!r}, pixels.shape, pixels.dtype, "YX", None, **extra) as view:
        for row in range(0, side, 256):
            view[0, :, row:row + 256] = np.asarray(pixels[row:row + 256])[None]
elif how == "ome-zarr-py":
    import dask.array as da, zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image
    group = zarr.open_group({out!r}, mode="w", zarr_format=2)
    write_image(da.from_array(pixels, chunks=(512, 512)), group, axes="yx", fmt=FormatV04(),
                storage_options={{"chunks": (512, 512)}})
elif how == "ngff-zarr":
    import dask.array as da, ngff_zarr as nz
    image = nz.to_ngff_image(da.from_array(pixels, chunks=(512, 512)), dims=["y", "x"])
    nz.to_ngff_zarr({out!r}, nz.to_multiscales(image, chunks=512), version="0.4")
print(time.perf_counter() - start)
"""

INFER = """
import sys
sys.path.insert(0, {root!r})
from img2img.cli import main
sys.exit(main({args!r}))
"""


def child(code: str, env: dict | None = None) -> dict:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read().strip()
    last = output.splitlines()[-1] if output else ""
    return {"exit": os.waitstatus_to_exitcode(status), "peak_gb": usage.ru_maxrss * 1024 / 1e9,
            "seconds": time.perf_counter() - start, "output": last,
            "inner_seconds": float(last) if last.replace(".", "", 1).isdigit() else None}


def store_size(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e9


def levels(path: Path) -> int:
    attrs = path / ".zattrs"
    if not attrs.is_file():
        attrs = path / "zarr.json"
        meta = json.loads(attrs.read_text()).get("attributes", {}).get("ome", {})
    else:
        meta = json.loads(attrs.read_text())
    return len(meta.get("multiscales", [{}])[0].get("datasets", []))


def small_model(path: Path) -> Path:
    """A small untrained 1 -> 1 U-Net (the memory path is the same for any generator)."""
    if path.is_file():
        return path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.model_builders import save_checkpoint, untrained

    return save_checkpoint(untrained(depth=5, task="translation", out_channels=1), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=16384)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ome_zarr_output"))
    parser.add_argument("--old", type=Path, help="checkout of the code before (for 'before')")
    parser.add_argument("--writers", nargs="*", default=["before", "after", "after-labels", "ome-zarr-py", "ngff-zarr"])
    parser.add_argument("--infer", action="store_true", help="also img2img infer OME-Zarr -> OME-Zarr, before and after")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    new_root = str(Path(__file__).resolve().parents[1])
    image = make_image(args.work / f"nuclei_{args.side}.tif", args.side)
    rows = []
    for _ in range(args.repeat):
        for how in args.writers:
            if how == "before" and args.old is None:
                continue
            root = str(args.old) if how == "before" else new_root
            out = args.work / f"{how}.ome.zarr"
            subprocess.run(["rm", "-rf", str(out)], check=True)
            result = child(WRITE.format(root=root, image=str(image), how=how, out=str(out)))
            result.update(what=f"write: {how}", size_gb=store_size(out) if out.exists() else None,
                          levels=levels(out) if out.exists() else None)
            rows.append(result)
            print(json.dumps(result), flush=True)
        if args.infer:
            source = args.work / f"nuclei_{args.side}.ome.zarr"
            if not source.exists():
                child(WRITE.format(root=new_root, image=str(image), how="after", out=str(source)))
            model = small_model(args.work / "unet5.ckpt")
            for label, root in (("before", args.old), ("after", new_root)):
                if root is None:
                    continue
                out = args.work / f"infer_{label}"
                subprocess.run(["rm", "-rf", str(out)], check=True)
                cli = ["infer", str(source), "--model", str(model), "--output", str(out), "--name", "{stem}.ome.zarr",
                       "--device", "cpu"]
                env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
                result = child(INFER.format(root=str(root), args=cli), env)
                written = out / f"nuclei_{args.side}.ome.zarr"
                result.update(what=f"infer: {label}", levels=levels(written) if written.exists() else None)
                rows.append(result)
                print(json.dumps(result), flush=True)
    print("| what | peak RSS | wall time | levels | store |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        size = f"{r['size_gb']:.2f} GB" if r.get("size_gb") else ""
        status = "" if r["exit"] == 0 else f" (exit {r['exit']})"
        print(f"| {r['what']}{status} | {r['peak_gb']:.2f} GB | {r['seconds']:.1f} s | {r.get('levels') or ''} | {size} |")


if __name__ == "__main__":
    main()
