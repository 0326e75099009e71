"""Photo <-> painting style transfer (issue 3): train CycleGAN on generated photos and paintings,
then measure on held-out scenes that the style moved and the structure stayed.

    OMP_NUM_THREADS=1 python experiments/photo_style_measure.py --work /tmp/photo_style

Writes WORK/results.json and WORK/examples.png (photo | photo->painting | painting of the same
scene | painting->photo). A finished run in WORK/run is reused. Numbers: docs/cyclegan.md.
"""

import argparse
import json
from pathlib import Path

import torch

from img2img.studies.style_experiment import run_style_experiment

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--work", type=Path, required=True)
parser.add_argument("--config", type=Path, default=Path(__file__).with_name("photo_style.yaml"))
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--n", type=int, default=200, help="photos and paintings to train on (each)")
parser.add_argument("--set", dest="extra", action="append", default=[], help="extra CycleGAN config override")
args = parser.parse_args()
torch.set_num_threads(1)
print(json.dumps(run_style_experiment(args.work, args.config, args.steps, args.n, extra=args.extra), indent=1))
