"""Every model kind the benchmarks measure, and the plain inference loop they are compared with.

One entry per kind users train: Pix2Pix with its U-Net-256, CycleGAN with ResNet-9, super-resolution
(SRResNet x2), inpainting (gated convolutions), colorization (U-Net predicting chroma) and
segmentation. Image models get random weights (speed does not depend on what a network learned,
but `--precision auto` does: it judges bf16 by the task's measure, so random weights are judged
against the assumed model PSNR); the segmenter is the built-in trained nuclei model, whose decoded
labels are what its bf16 check compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tifffile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from img2img.config.schema import TrainConfig  # noqa: E402
from img2img.models.registry import build_model  # noqa: E402

BUILTIN_SEGMENTER = Path(__file__).resolve().parents[1] / "img2img" / "builtin" / "nuclei_segmenter.ckpt"

# kind -> (model section, data section, channels in, channels out); the generators are the defaults
# a user gets for that kind, with the reference sizes (U-Net-256: depth 8, ResNet-9: 9 blocks).
KINDS = {
    "pix2pix": ({"name": "pix2pix", "generator": {"kind": "unet", "depth": 8, "base_channels": 64, "dropout": 0.0}},
                {"input_dir": "unused", "target_dir": "unused", "patch_size": 256}, 1, 1),
    "cyclegan": ({"name": "cyclegan", "generator": {"n_blocks": 9, "base_channels": 64}},
                 {"a_dir": "unused", "b_dir": "unused", "patch_size": 256}, 1, 1),
    "superres": ({"name": "superres", "scale": 2}, {"image_dir": "unused", "patch_size": 128}, 1, 1),
    "inpaint": ({"name": "inpaint"}, {"image_dir": "unused", "patch_size": 256}, 1, 1),
    "colorize": ({"name": "colorize"}, {"input_dir": "unused", "target_dir": "unused", "patch_size": 256}, 1, 3),
    "n2v": ({"name": "n2v"}, {"image_dir": "unused", "patch_size": 256}, 1, 1),
    "segmentation": None,
}
LABELS = {"pix2pix": "Pix2Pix (U-Net-256)", "cyclegan": "CycleGAN (ResNet-9)", "superres": "super-resolution (SRResNet x2)",
          "inpaint": "inpainting (gated)", "colorize": "colorization (U-Net)", "n2v": "Noise2Void (U-Net)", "segmentation": "segmentation (built-in nuclei)"}
# Options of `Predictor` a kind needs to run on plain images (inpainting: where the holes are).
PREDICTOR_OPTIONS = {"inpaint": {"mask_rule": "zero"}}


def make_model(kind: str, small: bool = False):
    """The kind's model in eval mode; `small` shrinks the networks (for the CPU smoke run in tests)."""
    if kind == "segmentation":
        from img2img.models.checkpoint import load_model

        return load_model(BUILTIN_SEGMENTER)
    model, data, cin, cout = KINDS[kind]
    if small:
        model = {**model, "generator": {**model.get("generator", {}), **_SMALL[kind]}}
        data = {**data, "patch_size": 64}
    config = TrainConfig.model_validate({"task": "translation", "model": model, "data": data})
    torch.manual_seed(0)
    return build_model(config, cin, cout, "uint16", target_dtype="uint16").eval()


_SMALL = {"pix2pix": {"depth": 4, "base_channels": 8}, "cyclegan": {"n_blocks": 2, "base_channels": 8},
          "superres": {"n_blocks": 2, "base_channels": 8}, "inpaint": {"base_channels": 8, "n_dilated": 2},
          "colorize": {"depth": 3, "base_channels": 8}, "n2v": {"depth": 4, "base_channels": 8}}


def make_images(folder: Path, n: int, size: int, compress: bool = True) -> list[Path]:
    """n uint16 TIFFs of size x size: synthetic fluorescence nuclei (a 1024 px scene, mirrored to
    fill larger sizes), so the segmenter finds objects to decode and image models see structure."""
    from img2img.data.synthetic.cells import render_cells

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        scene, _ = render_cells(np.random.default_rng(i), (min(size, 1024),) * 2)
        reps = -(-size // scene.shape[0])
        image = np.pad(scene, [(0, scene.shape[0] * (reps - 1))] * 2, mode="symmetric")[:size, :size]
        path = folder / f"frame_{i:03d}.tif"
        tifffile.imwrite(path, image, compression="zlib" if compress else None)
        paths.append(path)
    return paths


def reference_loop(model, files: list[Path], out: Path, device: str, tile: int = 512) -> None:
    """What a script would do: float32, eager, batch 1, naive non-overlapping tiles (seams and all),
    percentile normalization (1-99.8), the model's forward on each tile, back to uint16, zlib TIFF.
    Segmentation decodes the whole image's maps once with the model's own decoding."""
    from img2img.kinds import kind_of
    from img2img.segmentation.encoding import decode_rescaled

    net = model.to(device).eval()
    kind = kind_of(model.config)  # the registry says what the network takes and makes
    scale, takes_mask = int(kind.output_scale(model.config.model)), kind.takes_mask
    out.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        for path in files:
            image = tifffile.imread(path).astype(np.float32)
            lo, hi = np.percentile(image, [1, 99.8])
            x = ((image - lo) / (hi - lo) * 2 - 1).astype(np.float32)
            h, w = x.shape
            ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
            x = np.pad(x, [(0, ph - h), (0, pw - w)], mode="reflect")
            y = np.empty((model.out_channels, ph * scale, pw * scale), np.float32)
            for r in range(0, ph, tile):
                for c in range(0, pw, tile):
                    t = torch.from_numpy(np.ascontiguousarray(x[r : r + tile, c : c + tile]))[None, None]
                    if model.in_channels > 1:
                        t = t.expand(1, model.in_channels, tile, tile)
                    if takes_mask:
                        t = torch.cat([t, torch.zeros_like(t[:, :1])], 1)
                    y[:, r * scale : (r + tile) * scale, c * scale : (c + tile) * scale] = net(t.to(device))[0].float().cpu().numpy()
            y = y[:, : h * scale, : w * scale]
            if model.config.task == "segmentation":
                result = decode_rescaled((y + 1) / 2, model.config.segmentation.decoding).astype(np.uint16)
            else:
                result = np.clip(np.rint((y + 1) / 2 * (hi - lo) + lo), 0, 65535).astype(np.uint16)
            tifffile.imwrite(out / path.name, result, compression="zlib")
