"""Training throughput: a plain reference loop against `img2img train`, in one run.

    python benchmarks/train_throughput.py                       # GPU: 256 px, both models
    python benchmarks/train_throughput.py --size 256 --cyclegan-size 128 --steps 4 --batches 1,4   # a CPU

For Pix2Pix (U-Net-256 + 70x70 PatchGAN) and CycleGAN (2 x ResNet-9 + 2 PatchGANs) it times one
full training step two ways and prints images/s, the ratio to the reference and the achieved
TFLOP/s (FLOPs of one step counted with FlopCounterMode, forward and backward):

- reference: what the published code does per step: float32, NCHW, eager, batch 1, tensors
  already in memory (no data loading at all, which favours it), the reference update order;
- img2img: `train()` with its defaults for the device (precision/channels_last/compile 'auto'),
  reading generated TIFFs through the data module, augmentation and workers included, measured
  between the ends of consecutive training steps after warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import tifffile
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from img2img.config.loading import validate_config
from img2img.models.image_pool import ImagePool
from img2img.nets import PatchDiscriminator, adversarial_loss
from img2img.nets.resnet import ResNetGenerator
from img2img.nets.unet import UNetGenerator
from img2img.training import train


# --- the reference loop ---------------------------------------------------------------------
def reference_pix2pix(device, size):
    depth = max(2, min(8, size.bit_length() - 1))  # as the config rule: 8 (U-Net-256) at 256 px
    g, d = UNetGenerator(3, 3, depth=depth).to(device), PatchDiscriminator(6, 64, 3, "batch").to(device)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (g, d))
    x, y = torch.randn(1, 3, size, size, device=device), torch.randn(1, 3, size, size, device=device)

    def step():
        fake = g(x)
        for p in d.parameters():
            p.requires_grad_(True)
        loss_d = 0.5 * (adversarial_loss(d(torch.cat([x, y], 1)), True, "vanilla")
                        + adversarial_loss(d(torch.cat([x, fake.detach()], 1)), False, "vanilla"))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        loss_g = adversarial_loss(d(torch.cat([x, fake], 1)), True, "vanilla") + 100 * F.l1_loss(fake, y)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return step


def reference_cyclegan(device, size):
    g_ab, g_ba = (ResNetGenerator(3, 3, n_blocks=9).to(device) for _ in range(2))
    d_a, d_b = (PatchDiscriminator(3, 64, 3, "instance").to(device) for _ in range(2))
    opt_g = torch.optim.Adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(d_a.parameters(), d_b.parameters()), 2e-4, betas=(0.5, 0.999))
    pool_a, pool_b = ImagePool(50), ImagePool(50)
    a, b = torch.randn(1, 3, size, size, device=device), torch.randn(1, 3, size, size, device=device)

    def step():
        fake_b, fake_a = g_ab(a), g_ba(b)
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(False)
        loss_g = (adversarial_loss(d_b(fake_b), True, "lsgan") + adversarial_loss(d_a(fake_a), True, "lsgan")
                  + 10 * (F.l1_loss(g_ba(fake_b), a) + F.l1_loss(g_ab(fake_a), b))
                  + 5 * (F.l1_loss(g_ab(b), b) + F.l1_loss(g_ba(a), a)))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(True)
        loss_d = 0.5 * (adversarial_loss(d_a(a), True, "lsgan") + adversarial_loss(d_a(pool_a.query(fake_a)), False, "lsgan")
                        + adversarial_loss(d_b(b), True, "lsgan") + adversarial_loss(d_b(pool_b.query(fake_b)), False, "lsgan"))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
    return step


def time_reference(step, device, warmup, steps) -> float:
    for _ in range(warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps / (time.perf_counter() - start)


def flops_per_image(step) -> float:
    """FLOPs of one batch-1 step (forward and backward of every network)."""
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


# --- img2img's path -------------------------------------------------------------------------
class StepTimes(pl.Callback):
    def __init__(self):
        self.ends: list[float] = []
        self.batch = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize()
        self.ends.append(time.perf_counter())
        self.batch = next(v for v in batch.values() if torch.is_tensor(v) and v.ndim == 4).shape[0]


def write_images(folder: Path, n: int, size: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(n):
        tifffile.imwrite(folder / f"img_{i:02d}.tif", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return folder


def time_img2img(model: str, size: int, batch: int, warmup: int, steps: int, device: str, work: Path,
                 workers: int | None = None) -> tuple[float, str]:
    data = work / f"{model}_{size}_data"
    if not data.exists():
        write_images(data / "a", 8, size + size // 4)
        write_images(data / "b", 8, size + size // 4)
    folders = ({"input_dir": str(data / "a"), "target_dir": str(data / "b"), "val_fraction": 0.1}
               if model == "pix2pix" else {"a_dir": str(data / "a"), "b_dir": str(data / "b"), "val_images": 1})
    config = validate_config({
        "task": "translation", "model": {"name": model},
        "data": {**folders, "patch_size": size, "batch_size": batch, "patches_per_image": 64,
                 **({} if workers is None else {"num_workers": workers})},
        "schedule": {"steps": warmup + steps},
        "trainer": {"accelerator": device, "val_every_steps": 10**6, "samples": 0, "log_every_steps": 50},
        "output_dir": str(work / f"run_{model}_{size}_{batch}"),
    })
    times = StepTimes()
    train(config, progress=False, callbacks=[times])
    ends = times.ends[warmup - 1:]
    from img2img.training.speed import resolve_speed
    speed = resolve_speed(config.trainer)
    settings = f"{speed.precision}, {'NHWC' if speed.channels_last else 'NCHW'}, {'compiled' if speed.compile else 'eager'}"
    return times.batch * (len(ends) - 1) / (ends[-1] - ends[0]), settings


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=256, help="Pix2Pix patch side (U-Net-256 needs 256)")
    parser.add_argument("--cyclegan-size", type=int, default=None, help="CycleGAN patch side (default: --size)")
    parser.add_argument("--batches", default="1,16", help="Pix2Pix batch sizes for img2img's path")
    parser.add_argument("--cyclegan-batches", default="1", help="CycleGAN batch sizes for img2img's path")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default="pix2pix,cyclegan")
    parser.add_argument("--ours-first", action="store_true", help="time img2img's path before the reference loop")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--workers", type=int, default=None, help="img2img's data.num_workers (default: the config's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device, accelerator = args.device, "gpu" if args.device.startswith("cuda") else "cpu"
    print(f"device {torch.cuda.get_device_name() if accelerator == 'gpu' else 'cpu'}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            size = args.size if model == "pix2pix" else (args.cyclegan_size or args.size)
            make = reference_pix2pix if model == "pix2pix" else reference_cyclegan
            batches = [int(b) for b in (args.batches if model == "pix2pix" else args.cyclegan_batches).split(",")]
            ours = {}
            if args.ours_first:  # on a shared machine, swapping the order shows how much the load moved
                ours = {b: time_img2img(model, size, b, args.warmup, args.steps, accelerator, Path(tmp), args.workers)
                        for b in batches}
            step = make(device, size)
            flops = flops_per_image(step)
            ref = time_reference(step, device, args.warmup, args.steps)
            del step
            rows.append((model, size, "reference loop", 1, ref, 1.0, flops * ref / 1e12, "float32, NCHW, eager, no data loading"))
            for batch in batches:
                rate, settings = ours.get(batch) or time_img2img(model, size, batch, args.warmup, args.steps, accelerator,
                                                                 Path(tmp), args.workers)
                rows.append((model, size, "img2img train", batch, rate, rate / ref, flops * rate / 1e12, settings))
            for row in rows[-(1 + len(batches)):]:
                print(row, flush=True)
    print("\n| model | px | path | batch | images/s | ratio | TFLOP/s | settings |\n|---|---:|---|---:|---:|---:|---:|---|")
    for model, size, path, batch, rate, ratio, tflops, settings in rows:
        name = "Pix2Pix (U-Net-256)" if model == "pix2pix" else "CycleGAN (ResNet-9)"
        print(f"| {name} | {size} | {path} | {batch} | {rate:.3f} | {ratio:.2f} | {tflops:.3f} | {settings} |")


if __name__ == "__main__":
    main()
