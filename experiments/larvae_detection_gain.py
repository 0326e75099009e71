"""Sim-to-real detection gain (issue 3): does a detector trained on CycleGAN-translated simulated
frames find larvae in real-looking frames better than one trained on raw simulated frames?

    OMP_NUM_THREADS=1 python experiments/larvae_detection_gain.py --work /tmp/larvae_gain

Writes WORK/results_detector_seedN.json and prints the F1 table. A finished CycleGAN run in WORK/cyclegan_run
is reused, so the detector part can be rerun alone. See docs/cyclegan.md for measured numbers.
"""

import argparse
import json
from pathlib import Path

import torch

from img2img.studies.heatmap_detector import DetectorSettings
from img2img.studies.sim2real_gain import run_experiment

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--work", type=Path, required=True, help="folder for data, the CycleGAN run and results")
parser.add_argument("--config", type=Path, default=Path(__file__).with_name("larvae_sim2real.yaml"))
parser.add_argument("--cyclegan-steps", type=int, default=3000)
parser.add_argument("--detector-steps", type=int, default=DetectorSettings.steps)
parser.add_argument("--detector-seed", type=int, default=0)
parser.add_argument("--radius", type=float, default=5.0, help="px within which a detection matches a larva centre")
parser.add_argument("--set", dest="extra", action="append", default=[], help="extra CycleGAN config override")
args = parser.parse_args()
torch.set_num_threads(1)  # two threads on a busy 2-core machine ran far slower
settings = DetectorSettings(steps=args.detector_steps, seed=args.detector_seed)
results = run_experiment(args.work, args.config, args.cyclegan_steps, settings, args.radius, extra=args.extra)
print(json.dumps({k: v["test_real"]["f1"] for k, v in results["detectors"].items()}, indent=1))
