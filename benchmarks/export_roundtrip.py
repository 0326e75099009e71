"""Measure every export: each model kind (tiny, untrained, lively weights; see tests/model_builders.py)
and the built-in nuclei segmenter as a BioImage.IO package (which runs bioimageio.core's model test)
with its weight formats' max abs difference to our Predictor. Prints the table in docs/export.md.

    PYTHONPATH=. python benchmarks/export_roundtrip.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from img2img.export import export_model  # noqa: E402
from tests.model_builders import save_checkpoint, untrained_kind  # noqa: E402

KINDS = [("segmentation", None), ("translation", None), ("cyclegan", "AtoB"), ("cyclegan", "BtoA"),
         ("superres", None), ("superres_rrdb", None), ("colorize", None), ("inpaint", None)]


def main() -> None:
    print("| model | pytorch_state_dict | torchscript | onnx | bioimageio.core test | export time |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [(f"{kind} {direction or ''}".strip(), save_checkpoint(untrained_kind(kind), folder / f"{kind}.ckpt"), direction)
                 for kind, direction in KINDS] + [("builtin:nuclei", "builtin:nuclei", None)]
        for label, checkpoint, direction in cases:
            start = time.perf_counter()
            report = export_model(checkpoint, folder / "model.zip", direction=direction)  # fails unless the test passes
            seconds = time.perf_counter() - start
            cells = [f"{report.differences[f]:.1e}" if f in report.differences else "not exportable"
                     for f in ("pytorch_state_dict", "torchscript", "onnx")]
            print(f"| {label} | {' | '.join(cells)} | passed | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
