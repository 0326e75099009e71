"""StarDist and Cellpose trained from scratch on our DSB 2018 split, scored like our own segmenter.

Both tools train on the training split of experiments/real_nuclei/dsb2018_split.csv, use the
validation split only for their own validation (losses, StarDist's threshold optimisation,
Cellpose's size model check), predict every test image, and are scored by the same code as
our model. The tools live in their own virtualenv and never become img2img dependencies.

    # 1. the tools' environment (Python 3.11; torch pinned to the CPU wheel), once:
    python3.11 benchmarks/nuclei_tools.py setup            # -> benchmarks/.venv-tools
    # 2. train + predict, the same --minutes for each tool (runs/ is git-ignored):
    benchmarks/.venv-tools/bin/python benchmarks/nuclei_tools.py train --tool stardist --minutes 60 --threads 2
    benchmarks/.venv-tools/bin/python benchmarks/nuclei_tools.py train --tool cellpose --minutes 60 --threads 2
    # 3. score in OUR venv: tools' folders and any folder of our label TIFFs, one code path:
    .venv/bin/python benchmarks/nuclei_tools.py score runs/nuclei_tools/stardist \\
        runs/nuclei_tools/cellpose ours=PATH/TO/OUR/TEST/LABELS

`train` writes OUT/TOOL/labels/ID.tif (uint16 instance labels, one per test image, named by its
id), OUT/TOOL/training.json (tool, versions, steps/epochs, seconds of each phase, threads) and
the tool's model under OUT/TOOL/model. `score` reads a folder's labels/ (or the folder itself)
and prints one markdown table: per method and modality (fluorescence, histology, brightfield,
all) the images, F1 at IoU 0.5 (TP/FP/FN pooled over images) and the DSB 2018 score (per image
the mean over IoU 0.5, 0.55, ..., 0.95 of TP / (TP + FP + FN), averaged over images), both from
img2img.segmentation.metrics. A smoke run: --limit-train/--limit-val/--limit-test
take that many images of each split (modalities interleaved), and `score --partial` scores
only the test images that have a prediction. `resume` predicts the test images a Cellpose run
left without labels when it stopped after saving its model (its training.json is then missing).

Input images (8-bit RGBA as published; gray ones stored as RGB): both tools get one gray
channel, the mean of R, G and B with alpha dropped, as in each tool's own nuclei recipe
(StarDist's 2D example trains on gray DSB 2018 images; Cellpose's nuclei recipe is
channels=[0, 0], grayscale). Histology nuclei are thus dark on bright, fluorescence bright on
dark: neither tool is told the modality.

Recipes, from each tool's documentation and examples:
- StarDist 0.9 (examples/2D/2_training.ipynb): Config2D(n_rays=32, grid=(2, 2), n_channel_in=1),
  otherwise defaults (patches 256x256, batch 4, Adam 3e-4, 100 steps an epoch, LR halved on a
  40-epoch val-loss plateau); images normalised to their 1st-99.8th percentiles, label holes
  filled; the example's augmenter (random flips/90-degree rotations, intensity scale 0.6-2 and
  shift +-0.2, slight Gaussian noise); best val-loss weights kept; `optimize_thresholds` on the
  validation split; `predict_instances` with the tool's own tile guess. TensorBoard logging off.
- Cellpose 3.1 (its CLI's training defaults, `python -m cellpose --train --pretrained_model None`):
  CellposeModel(pretrained_model=False, diam_mean=17, nchan=2) (17 px: its nuclei model's value),
  train_seg with SGD, learning rate 0.2, weight decay 1e-5, batch 8, 224 px crops, images scaled
  by their mean nucleus diameter to 17 px, min_train_masks 5 (images with fewer nuclei are left
  out), the validation split as its test set. Then its size model (train_size, as --train_size
  does) so that each test image's nucleus diameter is estimated from the image as the built-in
  models do: DSB nuclei range from 7 to 90 px, and our segmenter estimates sizes too. One epoch
  by default (--size-model-epochs; Cellpose's is 10): each epoch is a 512 px forward pass per
  training image, about 2.3 s an image on one CPU thread, so 10 would cost hours. 0: no size
  model, every test image scaled by the training mean diameter instead. Flow and cell-probability
  thresholds at the defaults (0.4, 0.0): Cellpose optimises none.

The budget: --minutes N is the wall time of gradient training, calibration steps included, the
same N for each tool. The first steps are timed and N converted into epochs. StarDist: epochs of
100 steps (fewer steps only when not even one epoch fits); its calibration steps are its first
training steps; a guard stops training at the deadline. Cellpose: its LR schedule depends on
n_epochs, so a throw-away network is timed for --calibration-steps steps first; at least 20
epochs, so that its 10-epoch warm-up ends, with fewer images an epoch when the budget is short.
Outside the budget, each timed apart in training.json: loading, Cellpose's flow targets (StarDist
computes its targets inside the steps), StarDist's threshold optimisation, Cellpose's size model
(forward passes only) and prediction. Threads: --threads T sets OMP/MKL/OpenBLAS/numba threads,
torch.set_num_threads and TensorFlow's intra-op threads to T (inter-op 1) before any import.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# numpy and the tools are imported inside the functions: thread counts are environment variables
# that the libraries read when they are first imported, so `train` sets them before any import.

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "experiments" / "real_nuclei"))
import dsb2018  # noqa: E402  (stdlib only: split CSV and data paths)

VENV = HERE / ".venv-tools"
REQUIREMENTS = HERE / "nuclei_tools_requirements.txt"
DEFAULT_OUT = REPO / "runs" / "nuclei_tools"
MODALITIES = ("fluorescence", "histology", "brightfield")
LABEL_SUFFIXES = (".tif", ".tiff", ".png")


# --- data -------------------------------------------------------------------------------------

def split_rows(split: str, limit: int | None = None) -> list[dict]:
    """Rows of one split; with a limit, that many with the modalities interleaved (a smoke run
    still sees each modality)."""
    rows = [r for r in dsb2018.read_split() if r["split"] == split]
    if limit is None:
        return rows
    by_modality = [[r for r in rows if r["modality"] == m] for m in MODALITIES]
    interleaved = [r for group in zip_longest_rows(by_modality) for r in group]
    return interleaved[:limit]


def zip_longest_rows(groups: list[list[dict]]):
    for k in range(max(map(len, groups))):
        yield [g[k] for g in groups if k < len(g)]


def read_gray(path: Path):
    """One float32 gray channel: the mean of R, G and B, alpha dropped; gray images as they are."""
    import imageio.v3 as iio
    import numpy as np

    image = np.asarray(iio.imread(path))
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1) if image.shape[-1] >= 3 else image[..., 0]
    return image.astype(np.float32)


def read_labels(path: Path):
    import imageio.v3 as iio
    import numpy as np
    import tifffile

    labels = tifffile.imread(path) if path.suffix.lower() in (".tif", ".tiff") else iio.imread(path)
    labels = np.asarray(labels)
    if labels.ndim == 3 and labels.shape[-1] in (3, 4):  # a label PNG saved as RGB(A)
        labels = labels[..., 0]
    return labels.squeeze()


def load(rows: list[dict], data: Path):
    """Gray images and true label images of the rows."""
    images = [read_gray(data / "images" / f"{r['id']}.png") for r in rows]
    labels = [read_labels(data / "masks" / f"{r['id']}.tif") for r in rows]
    return images, labels


# --- the tools' environment -------------------------------------------------------------------

def setup(args) -> None:
    """Create the tools' venv and install the pinned requirements into it."""
    if sys.version_info[:2] != (3, 11):
        print(f"warning: Python {sys.version.split()[0]}; the pinned CPU torch wheel is for 3.11", file=sys.stderr)
    if not (args.venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(args.venv)], check=True)
    subprocess.run([str(args.venv / "bin" / "python"), "-m", "pip", "install", "-r", str(REQUIREMENTS)], check=True)
    print(f"tools' environment ready: {args.venv}/bin/python {Path(__file__).relative_to(REPO)} train ...")


def limit_threads(threads: int) -> None:
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def package_versions(*names: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


# --- training and prediction ------------------------------------------------------------------

def train(args) -> None:
    limit_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")  # the tools' progress
    out = (args.out / args.tool).resolve()
    (out / "labels").mkdir(parents=True, exist_ok=True)
    rows = {s: split_rows(s, getattr(args, f"limit_{s}")) for s in ("train", "val", "test")}
    budget = args.minutes * 60.0

    tic = time.perf_counter()
    train_x, train_y = load(rows["train"], args.data)
    val_x, val_y = load(rows["val"], args.data)
    facts = {
        "tool": args.tool,
        "budget_minutes": args.minutes,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "seed": args.seed,
        "n_images": {s: len(r) for s, r in rows.items()},
        "smoke_run": any(getattr(args, f"limit_{s}") is not None for s in ("train", "val", "test")),
        "input": "gray: mean of R, G, B (alpha dropped)",
        "seconds": {"load": round(time.perf_counter() - tic, 1)},
    }
    runner = {"stardist": run_stardist, "cellpose": run_cellpose}[args.tool]
    predict = runner(args, out, budget, train_x, train_y, val_x, val_y, facts)

    tic = time.perf_counter()
    import numpy as np
    import tifffile

    for r in rows["test"]:
        image = read_gray(args.data / "images" / f"{r['id']}.png")
        labels = predict(image)
        if labels.max() > np.iinfo(np.uint16).max:
            raise SystemExit(f"{r['id']}: {labels.max()} objects do not fit uint16")
        tifffile.imwrite(out / "labels" / f"{r['id']}.tif", labels.astype(np.uint16), compression="zlib")
    facts["seconds"]["predict"] = round(time.perf_counter() - tic, 1)
    facts["seconds_per_test_image"] = round(facts["seconds"]["predict"] / max(len(rows["test"]), 1), 2)
    (out / "training.json").write_text(json.dumps(facts, indent=2) + "\n")
    print(json.dumps(facts, indent=2))
    print(f"labels of {len(rows['test'])} test images in {out / 'labels'}")


def run_stardist(args, out, budget, train_x, train_y, val_x, val_y, facts):
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    from csbdeep.utils import normalize
    from stardist import fill_label_holes
    from stardist.models import Config2D, StarDist2D

    keras.utils.set_random_seed(args.seed)
    facts["versions"] = package_versions("stardist", "csbdeep", "tensorflow-cpu", "tensorflow", "keras", "numpy")
    facts["input"] += "; each image normalised to its 1st-99.8th percentiles (csbdeep.utils.normalize)"

    def prepare(x):
        return normalize(x, 1, 99.8, axis=(0, 1))

    X, Xv = [prepare(x) for x in train_x], [prepare(x) for x in val_x]
    Y, Yv = [fill_label_holes(y) for y in train_y], [fill_label_holes(y) for y in val_y]

    config = Config2D(n_rays=32, grid=(2, 2), n_channel_in=1, use_gpu=False, train_tensorboard=False)
    model = StarDist2D(config, name="model", basedir=str(out))
    model.prepare_for_training()
    clock = make_step_clock()(deadline=None)
    model.callbacks.append(clock)

    def augmenter(x, y):
        # StarDist's 2D example: random flips and 90-degree rotations, intensity change, noise.
        perm = tuple(np.random.permutation(2))
        x, y = x.transpose(perm), y.transpose(perm)
        for axis in (0, 1):
            if np.random.rand() > 0.5:
                x, y = np.flip(x, axis=axis), np.flip(y, axis=axis)
        x = x * np.random.uniform(0.6, 2) + np.random.uniform(-0.2, 0.2)
        x = x + 0.02 * np.random.uniform(0, 1) * np.random.normal(0, 1, x.shape)
        return x, y

    start = time.perf_counter()
    clock.deadline = start + budget
    calibration_steps = args.calibration_steps
    model.train(X, Y, validation_data=(Xv, Yv), augmenter=augmenter, epochs=1, steps_per_epoch=calibration_steps)
    step_seconds = clock.seconds_per_step()
    val_seconds = clock.val_seconds[-1] if clock.val_seconds else 0.0
    remaining = budget - (time.perf_counter() - start)
    steps_per_epoch = config.train_steps_per_epoch
    epochs = int(remaining // (steps_per_epoch * step_seconds + val_seconds))
    if epochs < 1:  # not even one epoch of the recipe fits: one shorter epoch
        epochs, steps_per_epoch = 1, max(1, int((remaining - val_seconds) // step_seconds))
    if remaining > step_seconds:
        model.train(X, Y, validation_data=(Xv, Yv), augmenter=augmenter, epochs=epochs,
                    steps_per_epoch=steps_per_epoch)
    train_seconds = time.perf_counter() - start

    tic = time.perf_counter()
    thresholds = model.optimize_thresholds(Xv, Yv)
    facts["seconds"]["optimize_thresholds_on_val"] = round(time.perf_counter() - tic, 1)
    facts["seconds"]["train"] = round(train_seconds, 1)
    facts["training"] = {
        "recipe": "StarDist 2D example: n_rays 32, grid (2,2), patch 256, batch 4, Adam 3e-4, augmenter",
        "calibration_steps": calibration_steps,
        "seconds_per_step_calibrated": round(step_seconds, 3),
        "validation_seconds": round(val_seconds, 1),
        "planned_epochs": epochs,
        "planned_steps_per_epoch": steps_per_epoch,
        "steps_done": clock.steps,
        "stopped_by_deadline": clock.stopped,
        "seconds_per_step_measured": round(clock.seconds_per_step(), 3),
        "patches_seen": clock.steps * config.train_batch_size,
        "batch_size": config.train_batch_size,
        "patch_size": list(config.train_patch_size),
        "thresholds": {k: float(v) for k, v in dict(thresholds).items()},
    }

    def predict(image):
        x = prepare(image)
        labels, _ = model.predict_instances(x, n_tiles=model._guess_n_tiles(x), show_tile_progress=False)
        return labels

    return predict


def make_step_clock():
    import keras

    class Clock(keras.callbacks.Callback):
        """Counts training steps and times them (between consecutive step ends, so data
        generation counts); stops training at the deadline; times each validation."""

        def __init__(self, deadline):
            super().__init__()
            self.deadline, self.steps, self.stopped = deadline, 0, False
            self.ends, self.val_seconds = [], []

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            self.ends.append(time.perf_counter())
            if self.deadline is not None and self.ends[-1] > self.deadline:
                self.model.stop_training = self.stopped = True

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:  # a new epoch: the previous validation must not count as a step
                self.ends.append(None)

        def on_test_begin(self, logs=None):
            self._val_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self.val_seconds.append(time.perf_counter() - self._val_start)

        def seconds_per_step(self):
            """Median time between step ends within epochs, the first step of each (graph
            tracing, validation of the epoch before) left out."""
            import numpy as np

            gaps = [b - a for a, b in zip(self.ends, self.ends[1:]) if a is not None and b is not None]
            return float(np.median(gaps)) if gaps else float("nan")

    return Clock


def run_cellpose(args, out, budget, train_x, train_y, val_x, val_y, facts):
    os.environ["CELLPOSE_LOCAL_MODELS_PATH"] = str(out / "model" / "cellpose_home")  # never the user's
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    from cellpose import dynamics, models
    from cellpose import train as cp_train

    facts["versions"] = package_versions("cellpose", "torch", "numpy")
    facts["input"] += "; channels=[0, 0] (grayscale), Cellpose's own 1st-99th percentile normalisation"
    channels, diam_mean, batch = [0, 0], 17.0, 8
    recipe = dict(learning_rate=0.2, weight_decay=1e-5, SGD=True, batch_size=batch, min_train_masks=5)
    device = torch.device("cpu")
    model_dir = out / "model"
    (model_dir / "calibration").mkdir(parents=True, exist_ok=True)

    def new_model():
        return models.CellposeModel(gpu=False, pretrained_model=False, model_type=None, diam_mean=diam_mean, nchan=2)

    # Flow targets once for all (train_seg would compute them at each call).
    tic = time.perf_counter()
    flows = dynamics.labels_to_flows([y.astype(np.int32) for y in train_y], device=device)
    val_flows = dynamics.labels_to_flows([y.astype(np.int32) for y in val_y], device=device)
    facts["seconds"]["flow_targets"] = round(time.perf_counter() - tic, 1)
    n_used = sum(len(np.unique(y)) - 1 >= recipe["min_train_masks"] for y in train_y)

    # Calibration: train_seg's schedule depends on n_epochs, so a few steps on a throw-away
    # network (its first epoch has learning rate 0 anyway) are timed before the real run.
    start = time.perf_counter()
    calibration = new_model()
    clock = ForwardClock(calibration.net)
    k = min(len(train_x), 2 * batch)
    cp_train.train_seg(calibration.net, train_data=train_x[:k], train_labels=flows[:k], channels=channels,
                       normalize=True, n_epochs=1, nimg_per_epoch=batch * args.calibration_steps,
                       save_path=str(model_dir / "calibration"), model_name="calibration", **recipe)
    step_seconds = clock.seconds_per_step()
    # Validation losses at epochs 0, 5, 10, 20, ...: forward passes only, about a third of a step.
    val_seconds = step_seconds / 3 * math.ceil(len(val_x) / batch)

    remaining = budget - (time.perf_counter() - start)
    nimg_per_epoch = n_used
    steps_per_epoch = math.ceil(nimg_per_epoch / batch)
    epochs = int((remaining - 2 * val_seconds) // (steps_per_epoch * step_seconds + val_seconds / 10))
    if epochs < args.min_epochs:  # fewer images an epoch, so that the LR warm-up (10 epochs) ends
        epochs = args.min_epochs
        per_epoch = (remaining - 2 * val_seconds) / epochs - val_seconds / 10
        nimg_per_epoch = min(n_used, batch * max(1, int(per_epoch // step_seconds)))
        steps_per_epoch = math.ceil(nimg_per_epoch / batch)
    planned_seconds = epochs * (steps_per_epoch * step_seconds + val_seconds / 10) + 2 * val_seconds
    if planned_seconds > remaining * 1.05:
        print(f"warning: {args.min_epochs} epochs of one step need about {planned_seconds:.0f} s, "
              f"over the {remaining:.0f} s left of the budget", file=sys.stderr)

    model = new_model()
    clock = ForwardClock(model.net)
    model_path, train_losses, val_losses = cp_train.train_seg(
        model.net, train_data=train_x, train_labels=flows, test_data=val_x, test_labels=val_flows,
        channels=channels, normalize=True, n_epochs=epochs, nimg_per_epoch=nimg_per_epoch,
        save_path=str(model_dir), model_name="cellpose_dsb2018", save_every=10 ** 9, **recipe)
    clock.remove()
    facts["seconds"]["train"] = round(time.perf_counter() - start, 1)

    if args.size_model_epochs > 0:
        tic = time.perf_counter()
        cp_train.train_size(  # batch 8 instead of 64 caps memory; the network is in eval mode, same result
            model.net, str(model_path), train_data=train_x, train_labels=flows, test_data=val_x,
            test_labels=val_flows, channels=channels, normalize=True, min_train_masks=recipe["min_train_masks"],
            n_epochs=args.size_model_epochs, batch_size=8)
        facts["seconds"]["size_model"] = round(time.perf_counter() - tic, 1)

    trained, predict = cellpose_predictor(model_path, with_size_model=args.size_model_epochs > 0)
    facts["training"] = {
        "recipe": "Cellpose 3 CLI defaults: SGD lr 0.2, weight decay 1e-5, batch 8, 224 px crops, diam_mean 17",
        "calibration_steps": args.calibration_steps,
        "seconds_per_step_calibrated": round(step_seconds, 3),
        "epochs": epochs,
        "images_per_epoch": nimg_per_epoch,
        "steps_per_epoch": steps_per_epoch,
        "steps_done": len(clock.calls),
        "over_budget_for_min_epochs": planned_seconds > remaining * 1.05,
        "seconds_per_step_measured": round(clock.seconds_per_step(), 3),
        "crops_seen": epochs * nimg_per_epoch,
        "train_images_used": n_used,
        "final_train_loss": round(float(train_losses[-1]), 4),
        "val_losses": {str(i): round(float(v), 4) for i, v in enumerate(val_losses) if v},
        "diam_labels": float(trained.diam_labels),
        "size_model_epochs": args.size_model_epochs,
        "flow_threshold": 0.4,
        "cellprob_threshold": 0.0,
    }

    return predict


def cellpose_predictor(model_path, with_size_model: bool):
    """The trained network and a function image -> labels, as models.Cellpose.eval runs built-in
    models: the size model's diameter when there is one, else the training mean diameter."""
    from cellpose import models

    channels = [0, 0]
    trained = models.CellposeModel(gpu=False, pretrained_model=str(model_path), nchan=2)
    size_model = None
    if with_size_model:
        size_model = models.SizeModel(cp_model=trained, pretrained_size=str(model_path) + "_size.npy")

    def predict(image):
        diameter = size_model.eval(image, channels=channels)[0] if size_model else trained.diam_labels
        return trained.eval(image, channels=channels, diameter=diameter)[0]

    return trained, predict


def resume(args) -> None:
    """Finishes the test predictions of a Cellpose run that stopped after saving its model (the
    labels already written are kept; training.json is then the caller's to write from the log)."""
    limit_threads(args.threads)
    import numpy as np
    import tifffile
    import torch

    torch.set_num_threads(args.threads)
    out = (args.out / "cellpose").resolve()
    model_path = out / "model" / "models" / "cellpose_dsb2018"
    if not model_path.exists():
        raise SystemExit(f"{model_path}: no trained Cellpose model; run `train --tool cellpose` first")
    size_path = Path(str(model_path) + "_size.npy")
    _, predict = cellpose_predictor(model_path, with_size_model=size_path.exists())
    todo = [r for r in split_rows("test") if not (out / "labels" / f"{r['id']}.tif").exists()]
    tic = time.perf_counter()
    for r in todo:
        labels = predict(read_gray(args.data / "images" / f"{r['id']}.png"))
        tifffile.imwrite(out / "labels" / f"{r['id']}.tif", labels.astype(np.uint16), compression="zlib")
    seconds = time.perf_counter() - tic
    print(f"{len(todo)} missing test labels written in {seconds:.0f} s "
          f"({seconds / max(len(todo), 1):.2f} s an image) to {out / 'labels'}")


class ForwardClock:
    """Times Cellpose's training steps: one call of the network in training mode a step (its
    validation runs in eval mode), so the median gap between calls (the first left out: warm-up)
    is a step's wall time, augmentation and backward pass included."""

    def __init__(self, net):
        self.calls = []
        self._handle = net.register_forward_pre_hook(self._record)

    def _record(self, module, inputs):
        if module.training:
            self.calls.append(time.perf_counter())

    def seconds_per_step(self) -> float:
        import numpy as np

        gaps = np.diff(self.calls)
        gaps = gaps[1:] if len(gaps) > 1 else gaps
        return float(np.median(gaps)) if len(gaps) else float("nan")

    def remove(self):
        self._handle.remove()


# --- scoring (our venv) -----------------------------------------------------------------------

def score(args) -> None:
    """One markdown table: each method's F1 at IoU 0.5 and DSB score, per modality and all."""
    from img2img.segmentation import metrics as sm

    rows = split_rows(args.split)
    modality = {r["id"]: r["modality"] for r in rows}
    lines = ["| method | modality | images | nuclei | F1@0.5 | DSB score | precision@0.5 | recall@0.5 |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for spec in args.predictions:
        name, folder = spec.split("=", 1) if "=" in spec else (None, spec)
        folder = Path(folder)
        labels_dir = folder / "labels" if (folder / "labels").is_dir() else folder
        name = name or folder.name
        found = {p.stem: p for p in sorted(labels_dir.iterdir()) if p.suffix.lower() in LABEL_SUFFIXES}
        missing = [i for i in modality if i not in found]
        if missing and not args.partial:
            raise SystemExit(f"{name}: {len(missing)} of {len(modality)} {args.split} images have no labels "
                             f"in {labels_dir} (e.g. {missing[0]}); --partial scores only those found")
        per_image = []
        for image_id in (i for i in modality if i in found):
            pred = read_labels(found[image_id])
            true = read_labels(args.data / "masks" / f"{image_id}.tif")
            row = sm.segmentation_scores(pred, true)
            if "dsb_score" not in row:  # an older segmentation_metrics
                row["dsb_score"] = dsb_score(sm.match_instances, pred, true)
            per_image.append({**row, "name": image_id, "nuclei": row["tp"] + row["fn"]})
        if not per_image:
            raise SystemExit(f"{name}: no labels of {args.split} images in {labels_dir}")
        groups = {m: [s for s in per_image if modality[s["name"]] == m] for m in MODALITIES}
        groups["all"] = per_image
        for group, members in groups.items():
            if not members:
                continue
            total = sm.aggregate_scores(members)
            dsb = sum(s["dsb_score"] for s in members) / len(members)
            lines.append(f"| {name} | {group} | {len(members)} | {sum(s['nuclei'] for s in members)} | "
                         f"{total['f1']:.3f} | {dsb:.3f} | {total['precision']:.3f} | {total['recall']:.3f} |")
        note = f" ({len(missing)} of {len(modality)} {args.split} images without labels left out)" if missing else ""
        facts = folder / "training.json"
        if facts.exists():
            f = json.loads(facts.read_text())
            note += (f" {f['tool']} {f.get('versions', {}).get(f['tool'], '')}: {f['seconds']['train']} s training, "
                     f"{f['training'].get('steps_done')} steps, {f['threads']} threads"
                     + (", SMOKE RUN" if f.get("smoke_run") else ""))
        if note:
            notes.append(f"- {name}:{note}")
    print("\n".join(lines + ([""] + notes if notes else [])))


def dsb_score(match_instances, pred, true) -> float:
    """Mean over IoU 0.5, 0.55, ..., 0.95 of TP / (TP + FP + FN); 1.0 when both are empty."""
    total = 0.0
    for k in range(10):
        m = match_instances(pred, true, 0.5 + 0.05 * k)
        total += m.tp / (m.tp + m.fp + m.fn) if m.tp + m.fp + m.fn else 1.0
    return total / 10


# --- command line -----------------------------------------------------------------------------

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="create the tools' venv and install nuclei_tools_requirements.txt")
    p.add_argument("--venv", type=Path, default=VENV)
    p.set_defaults(func=setup)

    p = sub.add_parser("train", help="(tools' venv) train one tool from scratch, predict the test split")
    p.add_argument("--tool", choices=("stardist", "cellpose"), required=True)
    p.add_argument("--minutes", type=float, required=True, help="wall-clock budget of training (same for each tool)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="writes OUT/TOOL/{labels,model,training.json}")
    p.add_argument("--data", type=Path, default=dsb2018.DATA)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--calibration-steps", type=int, default=10, help="steps timed to size the budget")
    p.add_argument("--min-epochs", type=int, default=20, help="Cellpose: fewest epochs (its LR warm-up is 10)")
    p.add_argument("--size-model-epochs", type=int, default=1,
                   help="Cellpose: epochs of its size model (train_size; Cellpose's default is 10, each a "
                        "512 px forward pass per training image); 0: none, test images scaled by the "
                        "training mean diameter")
    for split in ("train", "val", "test"):
        p.add_argument(f"--limit-{split}", type=int, help=f"smoke run: only this many {split} images")
    p.set_defaults(func=train)

    p = sub.add_parser("resume", help="(tools' venv) predict the test images a stopped Cellpose run left")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--data", type=Path, default=dsb2018.DATA)
    p.set_defaults(func=resume)

    p = sub.add_parser("score", help="(our venv) F1@0.5 and DSB score per method and modality, markdown")
    p.add_argument("predictions", nargs="+", help="[NAME=]FOLDER of ID.tif labels (or with a labels/ subfolder)")
    p.add_argument("--split", default="test", choices=("test", "val"))
    p.add_argument("--data", type=Path, default=dsb2018.DATA)
    p.add_argument("--partial", action="store_true", help="score only the images that have labels (smoke runs)")
    p.set_defaults(func=score)

    args = parser.parse_args(argv)
    if getattr(args, "calibration_steps", 2) < 2:
        parser.error("--calibration-steps must be at least 2 (the first step is warm-up)")
    args.func(args)


if __name__ == "__main__":
    main()
