"""bf16 is judged by the task's own measure (inference/precision.py), and where it is kept the
quality of trained models stays within the bound: the same labels on at least 99.5% of the pixels,
or PSNR within 0.1 dB of float32."""

import math
import warnings

import numpy as np
import pytest
import torch
import yaml

from img2img.cli import main
from img2img.data.synthetic.cells import render_cells
from img2img.inference import precision
from img2img.inference.predictor import BF16_BLOCKS, Predictor
from img2img.io.images import read_image
from img2img.models.checkpoint import load_model


def test_label_agreement_ignores_numbering_and_counts_merges_and_losses():
    a = np.zeros((10, 10), np.uint16)
    a[1:4, 1:4], a[6:9, 6:9] = 1, 2
    assert precision.label_agreement(a, np.where(a > 0, 3 - a, 0)) == 1.0  # renumbered
    lost = a.copy()
    lost[6:9, 6:9] = 0
    assert precision.label_agreement(a, lost) == pytest.approx(1 - 9 / 100)
    merged = np.where(a > 0, 1, 0)
    assert precision.label_agreement(a, merged) == pytest.approx(1 - 9 / 100)  # one of the two keeps the match


def test_the_psnr_bound_follows_the_recorded_validation_psnr():
    assert precision.PSNR_MARGIN_DB == pytest.approx(16.33, abs=0.01)
    assert precision.required_psnr(None) == pytest.approx(precision.ASSUMED_MODEL_PSNR + precision.PSNR_MARGIN_DB)
    assert precision.recorded_psnr({"validation": {"psnr": 24.5, "ssim": 0.7}}) == 24.5
    assert precision.recorded_psnr({"validation": {"loss_cycle": 0.1}}) == pytest.approx(23.01, abs=0.01)  # Laplace error
    assert precision.recorded_psnr({"validation": {"loss_l1": 0.1}}) is None and precision.recorded_psnr(None) is None
    # 10 log10(1 + e/m) is the PSNR a model of error m loses to an added error e: at the bound, 0.1 dB.
    m = 10 ** (-30 / 10)
    e = 10 ** (-precision.required_psnr(30.0) / 10)
    assert 10 * math.log10(1 + e / m) == pytest.approx(0.1, abs=1e-6)
    out = np.linspace(-1, 1, 1000)
    assert precision.judge_image(out, out + 0.004, None).keep and not precision.judge_image(out, out + 0.02, None).keep
    assert precision.judge_image(out, out + 0.02, 20.0).keep  # a model that errs by more tolerates more


def _checked(predictor):
    """Run the bf16 check as `auto` does on bf16 hardware (bf16 autocast also runs, slowly, elsewhere)."""
    predictor.precision, predictor._precision_checked = "bf16", False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictor._check_bf16(predictor.in_channels + (1 if predictor.masks.needed else 0))
    return predictor.precision


def test_the_builtin_segmenter_keeps_bf16_and_its_labels():
    image, _ = render_cells(np.random.default_rng(11), (384, 384))
    reference = Predictor(load_model("builtin:nuclei"), device="cpu", precision="32", diameter=None)
    candidate = Predictor(load_model("builtin:nuclei"), device="cpu", precision="32", diameter=None)
    assert _checked(candidate) == "bf16"
    agreement = precision.label_agreement(reference.predict(image), candidate.predict(image))
    assert agreement >= precision.LABEL_AGREEMENT


def test_a_resnet9_that_fails_bf16_keeps_it_in_its_residual_blocks_within_the_bound():
    """Random ResNet-9 weights (no recorded PSNR: 30 dB assumed, 46.3 dB needed): bf16 as a whole
    is about 43.6 dB from float32 on the probe and fails; the residual blocks alone pass, and the
    Predictor then keeps float32 at the full-resolution ends only."""
    from img2img.config.schema import TrainConfig
    from img2img.models.registry import build_model

    config = TrainConfig.model_validate({"task": "translation", "model": {"name": "cyclegan"},
                                         "data": {"a_dir": "a", "b_dir": "b", "patch_size": 256}})
    torch.manual_seed(0)
    model = build_model(config, 1, 1, "uint16", target_dtype="uint16")
    candidate = Predictor(model, device="cpu", precision="32")
    assert _checked(candidate) == BF16_BLOCKS and model.generator.bf16_blocks_on == "cpu"
    image = (np.random.default_rng(3).random((256, 256)) * 60000).astype(np.uint16)
    reference = Predictor(model, device="cpu", precision="32")  # the same network, its blocks set back to float32
    mixed = candidate.predict(image).astype(np.float64)
    model.generator.bf16_blocks_on = None
    difference = (mixed - reference.predict(image)) / 65535
    assert -10 * math.log10(np.mean(difference**2)) >= precision.required_psnr(None)


@pytest.fixture(scope="module")
def denoise(tmp_path_factory):
    folder = tmp_path_factory.mktemp("denoise")
    assert main(["synth", "denoise", "--output", str(folder), "--n", "8", "--size", "96", "--seed", "5"]) == 0
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("generator", [{"kind": "unet", "depth": 4, "base_channels": 16},
                                       {"kind": "resnet", "n_blocks": 3, "base_channels": 16}], ids=["unet", "resnet"])
def test_trained_image_models_lose_at_most_0_1_db_where_bf16_is_kept(denoise, tmp_path, generator):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "task": "translation",
        "model": {"generator": generator, "discriminator": {"base_channels": 8}},
        "data": {"input_dir": str(denoise / "images"), "target_dir": str(denoise / "targets"), "patch_size": 64,
                 "batch_size": 4, "patches_per_image": 4, "num_workers": 0, "val_fraction": 0.25},
        "schedule": {"steps": 30}, "trainer": {"val_every_steps": 30},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(config)]) == 0
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    model = load_model(checkpoint)
    assert precision.recorded_psnr(model.training_card) is not None  # the bound comes from the checkpoint
    candidate = Predictor(model, device="cpu", precision="32")
    kept = _checked(candidate) in ("bf16", BF16_BLOCKS)  # a ResNet may keep bf16 in its residual blocks only
    reference = Predictor(load_model(checkpoint), device="cpu", precision="32")
    images = sorted((denoise / "images").glob("*.tif"))
    psnr = {}
    for name, predictor in (("32", reference), ("bf16", candidate if kept else _forced_bf16(checkpoint))):
        errors = []
        for path in images:
            target = read_image(denoise / "targets" / path.name).data.astype(np.float64)
            out = predictor.predict(read_image(path).data).astype(np.float64)
            errors.append(np.mean(((out - target) / np.ptp(target)) ** 2))  # PSNR over the target's range
        psnr[name] = -10 * math.log10(np.mean(errors))
    if kept:
        assert abs(psnr["bf16"] - psnr["32"]) <= precision.PSNR_LOSS_DB
    else:  # float32 was chosen: then bf16 must have cost something measurable, or the check is too strict
        assert abs(psnr["bf16"] - psnr["32"]) > 0.001


def _forced_bf16(checkpoint):
    predictor = Predictor(load_model(checkpoint), device="cpu", precision="bf16")
    predictor._precision_checked = True
    return predictor
