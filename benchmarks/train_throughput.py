"""Training throughput: a plain reference loop against `img2img train`, in one run, for every model kind.

    python benchmarks/train_throughput.py                       # GPU: 256 px, every kind, batch 1 and 16
    python benchmarks/train_throughput.py --size 128 --batches 1,default --steps 4   # a CPU

For each kind it times one full training step two ways and prints images/s, the ratio to the
reference and the achieved TFLOP/s (FLOPs of one reference step counted with FlopCounterMode,
forward and backward):

- reference: what the published code does per step: float32, NCHW, eager, batch 1, tensors
  already in memory (no data loading at all, which favours it), the reference update order
  (Pix2Pix D then G; CycleGAN G then D with 50-image pools; super-resolution, inpainting and
  colorization: D then G on the module's own generator, discriminator and losses; Noise2Void: its
  U-Net and blind-spot loss, one optimizer);
- img2img: `train()` with its defaults for the device (precision/channels_last/compile 'auto'),
  reading generated TIFFs through the data module, augmentation and workers included, measured
  between the ends of consecutive training steps after warm-up. `default` in --batches is the
  config's default batch size for the kind.

Super-resolution, inpainting and colorization train their generator alone for their first
`pretrain_steps`; both paths here start with the adversarial term on (`pretrain_steps: 0`), so
the full GAN step is what is timed.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import tifffile
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from img2img.config.loading import validate_config  # noqa: E402
from img2img.models.image_pool import ImagePool  # noqa: E402
from img2img.nets import PatchDiscriminator, adversarial_loss  # noqa: E402
from img2img.nets.resnet import ResNetGenerator  # noqa: E402
from img2img.nets.unet import UNetGenerator  # noqa: E402
from img2img.training import train  # noqa: E402


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


KINDS = ("pix2pix", "cyclegan", "superres", "inpaint", "colorize", "n2v")
LABELS = {"pix2pix": "Pix2Pix (U-Net)", "cyclegan": "CycleGAN (ResNet-9)", "superres": "super-resolution (SRResNet x2)",
          "inpaint": "inpainting (gated)", "colorize": "colorization (U-Net)", "n2v": "Noise2Void (U-Net)"}
RESTORATION = {"superres": {"name": "superres", "scale": 2, "pretrain_steps": 0},
               "inpaint": {"name": "inpaint", "pretrain_steps": 0},
               "colorize": {"name": "colorize"}}


def reference_restoration(kind, device, size):
    """D then G on the kind's own networks and losses (`RestorationGan`'s hooks), in plain PyTorch."""
    from img2img.config.schema import TrainConfig
    from img2img.models.registry import build_model

    config = TrainConfig.model_validate({"model": RESTORATION[kind], "data": {"image_dir": "unused", "patch_size": size}})
    cin = 1 if kind == "colorize" else 3
    torch.manual_seed(0)
    model = build_model(config, cin, 3, "uint8", "uint8").to(device).train()
    g, d, cfg = model.generator, model.discriminator, config.model
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (g, d))
    low = size // cfg.scale if kind == "superres" else size
    batch = {"input": torch.randn(1, cin, low, low, device=device), "target": torch.randn(1, 3, size, size, device=device)}
    if kind == "inpaint":
        batch["mask"] = (torch.rand(1, 1, size, size, device=device) > 0.8).float()

    def step():
        fake = model.generate(batch)
        loss_d = 0.5 * (adversarial_loss(d(model.judged(batch, batch["target"])), True, cfg.gan_mode)
                        + adversarial_loss(d(model.judged(batch, fake.detach())), False, cfg.gan_mode))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        loss_g = cfg.l1_weight * model.reconstruction_loss(fake, batch)
        loss_g = loss_g + cfg.gan_weight * adversarial_loss(d(model.judged(batch, fake)), True, cfg.gan_mode)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
    return step


def reference_n2v(device, size):
    """The kind's own U-Net and blind-spot loss, one optimizer, 1.5% of the pixels hidden."""
    from img2img.config.schema import TrainConfig
    from img2img.kinds.n2v.module import blind_spot_loss
    from img2img.models.registry import build_model

    config = TrainConfig.model_validate({"model": {"name": "n2v"}, "data": {"image_dir": "unused", "patch_size": size}})
    torch.manual_seed(0)
    g = build_model(config, 3, 3, "uint8", "uint8").generator.to(device).train()
    opt = torch.optim.Adam(g.parameters(), 4e-4, betas=(0.9, 0.999))
    x = torch.randn(1, 3, size, size, device=device)
    mask = (torch.rand(1, 1, size, size, device=device) < 0.015).float()

    def step():
        loss = blind_spot_loss(g(x), x, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def reference_step(kind, device, size):
    if kind == "pix2pix":
        return reference_pix2pix(device, size)
    if kind == "cyclegan":
        return reference_cyclegan(device, size)
    if kind == "n2v":
        return reference_n2v(device, size)
    return reference_restoration(kind, device, size)


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
        weight = next(m.weight for m in pl_module.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
        self.nhwc = weight.is_contiguous(memory_format=torch.channels_last)  # as SpeedSwitches left it


def write_images(folder: Path, n: int, size: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(str(folder)))
    for i in range(n):
        tifffile.imwrite(folder / f"img_{i:02d}.tif", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return folder


def time_img2img(model: str, size: int, batch: int | None, warmup: int, steps: int, device: str, work: Path,
                 workers: int | None = None) -> tuple[float, int, str]:
    """(images/s, batch size, settings) of `train()` with its defaults; `batch` None: the config's default."""
    data = work / f"data_{size}"
    if not data.exists():
        write_images(data / "a", 8, size + size // 4)
        write_images(data / "b", 8, size + size // 4)
    if model == "pix2pix":
        folders = {"input_dir": str(data / "a"), "target_dir": str(data / "b"), "val_fraction": 0.1}
    elif model == "cyclegan":
        folders = {"a_dir": str(data / "a"), "b_dir": str(data / "b"), "val_images": 1}
    else:
        folders = {"image_dir": str(data / "a")}
    config = validate_config({
        "task": "translation", "model": RESTORATION.get(model, {"name": model}),
        "data": {**folders, "patch_size": size, "patches_per_image": 64,
                 **({} if batch is None else {"batch_size": batch}), **({} if workers is None else {"num_workers": workers})},
        "schedule": {"steps": warmup + steps},
        "trainer": {"accelerator": device, "val_every_steps": 10**6, "samples": 0, "log_every_steps": 50},
        "output_dir": str(work / f"run_{model}_{size}_{batch}"),
    })
    times = StepTimes()
    train(config, progress=False, callbacks=[times])
    ends = times.ends[warmup - 1:]
    from img2img.training.speed import resolve_speed
    speed = resolve_speed(config.trainer)
    settings = f"{speed.precision}, {'NHWC' if times.nhwc else 'NCHW'}, {'compiled' if speed.compile else 'eager'}"
    return times.batch * (len(ends) - 1) / (ends[-1] - ends[0]), times.batch, settings


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure_kind(kind: str, size: int, batches: list[int | None], device: str, warmup: int, steps: int, work: Path,
                 workers: int | None = None, ours_first: bool = False) -> list[tuple]:
    """Rows (kind, px, path, batch, images/s, ratio, TFLOP/s, peak GPU GB or None, settings): the
    reference, then ours per batch."""
    accelerator = "gpu" if device.startswith("cuda") else "cpu"

    def ours_at(b):
        reset_peak(device)
        return (*time_img2img(kind, size, b, warmup, steps, accelerator, work, workers), peak_gb(device))

    ours = {b: ours_at(b) for b in batches} if ours_first else {}  # swapping the order shows how the load moved
    reset_peak(device)
    step = reference_step(kind, device, size)
    flops = flops_per_image(step)
    ref = time_reference(step, device, warmup, steps)
    del step
    rows = [(kind, size, "reference loop", 1, ref, 1.0, flops * ref / 1e12, peak_gb(device),
             "float32, NCHW, eager, no data loading")]
    for b in batches:
        rate, used, settings, peak = ours.get(b) or ours_at(b)
        rows.append((kind, size, "img2img train", used, rate, rate / ref, flops * rate / 1e12, peak, settings))
    return rows


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def table(rows: list[tuple]) -> str:
    lines = ["| model | px | path | batch | images/s | ratio | TFLOP/s | peak GPU GB | settings |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for kind, size, path, batch, rate, ratio, tflops, peak, settings in rows:
        ratio_text = f"**{ratio:.2f}**" if path != "reference loop" else "1.00"
        memory = "" if peak is None else f"{peak:.2f}"
        lines.append(f"| {LABELS[kind]} | {size} | {path} | {batch} | {rate:.3f} | {ratio_text} | {tflops:.3f} | {memory} | {settings} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=256, help="patch side (Pix2Pix's U-Net gets depth 8 at 256 px)")
    parser.add_argument("--cyclegan-size", type=int, default=None, help="CycleGAN patch side (default: --size)")
    parser.add_argument("--batches", default="1,16", help="img2img's batch sizes; 'default' = the config's")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default=",".join(KINDS))
    parser.add_argument("--ours-first", action="store_true", help="time img2img's path before the reference loop")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--workers", type=int, default=None, help="img2img's data.num_workers (default: the config's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device {torch.cuda.get_device_name() if args.device.startswith('cuda') else 'cpu'}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    batches = [None if b == "default" else int(b) for b in args.batches.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models.split(","):
            size = args.cyclegan_size if kind == "cyclegan" and args.cyclegan_size else args.size
            new = measure_kind(kind, size, batches, args.device, args.warmup, args.steps, Path(tmp), args.workers,
                               args.ours_first)
            for row in new:
                print(row, flush=True)
            rows += new
    print("\n" + table(rows))


if __name__ == "__main__":
    main()
