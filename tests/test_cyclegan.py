"""CycleGAN: history pool, unpaired sampling, config errors, the module's two directions, and
(slow) synth larvae -> train -> load -> predict both ways."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
import yaml

from img2img.cli import main
from img2img.config.loading import validate_config
from img2img.data.unpaired import UnpairedDataModule, UnpairedSampler, balanced_order
from img2img.errors import UserError
from img2img.models.cyclegan import CycleGAN
from img2img.models.image_pool import ImagePool
from img2img.models.registry import build_model

TINY = {"name": "cyclegan", "generator": {"n_blocks": 1, "base_channels": 8}, "discriminator": {"base_channels": 8}}


def config(a="a", b="b", model=None, **extra):
    return validate_config({"model": {**TINY, **(model or {})},
                            "data": {"a_dir": str(a), "b_dir": str(b), "patch_size": 24, "num_workers": 0}, **extra})


def write_folder(folder: Path, n: int, size=32, channels=1, dtype=np.uint8) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        shape = (size, size) if channels == 1 else (size, size, channels)
        tifffile.imwrite(folder / f"img_{i:02d}.tif", rng.integers(0, 200, shape).astype(dtype))
    return folder


# --- history pool -----------------------------------------------------------------------
def test_pool_returns_new_images_until_full_then_mixes_in_old_ones():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).reshape(4, 1, 1, 1).requires_grad_()
    out = pool.query(first)
    assert torch.equal(out, first.detach()) and len(pool) == 4 and not out.requires_grad
    seen_old = seen_new = 0
    for step in range(50):
        new = torch.full((2, 1, 1, 1), 100.0 + step)
        out = pool.query(new)
        assert out.shape == new.shape and len(pool) == 4
        seen_new += int((out == 100.0 + step).sum())
        seen_old += int((out < 100.0 + step).sum())
    assert seen_new + seen_old == 100 and 30 < seen_old < 70  # about half come from the history
    assert all(v.item() >= 100 for v in pool.images)  # the first images were swapped out by now


def test_pool_of_size_zero_passes_images_through():
    x = torch.randn(3, 1, 4, 4)
    assert torch.equal(ImagePool(0).query(x), x) and len(ImagePool(0)) == 0


# --- unpaired sampling ------------------------------------------------------------------
def test_balanced_order_covers_every_index_evenly():
    order = balanced_order(3, 14, np.random.default_rng(0))
    counts = np.bincount(order, minlength=3)
    assert len(order) == 14 and counts.min() >= 4 and counts.max() <= 5


def test_sampler_sees_every_image_of_both_folders_each_epoch_in_new_orders():
    steps = iter([0, 14])  # the trainer's steps done at the start of epochs 0 and 1 (batch size 1)
    sampler = UnpairedSampler(n_a=7, n_b=3, patches_per_image=2, steps_done=lambda: next(steps))
    epochs = [list(sampler) for _ in range(2)]
    for pairs in epochs:
        a, b, _ = zip(*pairs)
        assert len(pairs) == len(sampler) == 14
        assert np.bincount(a, minlength=7).tolist() == [2] * 7
        assert set(b) == {0, 1, 2} and max(np.bincount(b)) - min(np.bincount(b)) <= 1
    assert epochs[0] != epochs[1]
    assert len(UnpairedSampler(5, 2, 1, batch_size=2)) == 6  # whole batches: no image is dropped with the last one


def test_data_module_loads_both_folders_and_every_image_reaches_a_batch(tmp_path):
    a = write_folder(tmp_path / "a", 5)
    b = write_folder(tmp_path / "b", 2, channels=3, dtype=np.uint16)
    cfg = validate_config({
        "model": {**TINY, "identity_weight": 0},
        "data": {"a_dir": str(a), "b_dir": str(b), "patch_size": 24, "batch_size": 2, "patches_per_image": 1,
                 "val_images": 3, "num_workers": 0},
    })
    dm = UnpairedDataModule(cfg, size_multiple=4)
    assert (dm.in_channels, dm.input_dtype, dm.out_channels, dm.target_dtype) == (1, "uint8", 3, "uint16")
    assert len(dm.val_a) == 3 and len(dm.val_b) == 2
    seen_a, seen_b = set(), set()
    for batch in dm.train_dataloader():
        assert batch["a"].shape[1:] == (1, 24, 24) and batch["b"].shape[1:] == (3, 24, 24)
        seen_a.update(batch["a_index"].tolist())
        seen_b.update(batch["b_index"].tolist())
    assert seen_a == set(range(5)) and seen_b == {0, 1}
    val_a, val_b = dm.val_dataloader()
    assert next(iter(val_b))["input"].shape == (1, 3, 32, 32)


def test_folders_with_too_few_or_too_small_images_are_one_line_errors(tmp_path):
    one = write_folder(tmp_path / "one", 1)
    two = write_folder(tmp_path / "two", 2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"one: only one image.*at least 2"):
        UnpairedDataModule(config(one, two), 4)
    with pytest.raises(UserError, match=r"empty: no images"):
        UnpairedDataModule(config(two, tmp_path / "empty"), 4)
    small = validate_config({"model": TINY, "data": {"a_dir": str(two), "b_dir": str(two), "patch_size": 64}})
    with pytest.raises(UserError, match=r"img_00.tif: 32x32 px is smaller than data.patch_size 64"):
        UnpairedDataModule(small, 4)


# --- config -----------------------------------------------------------------------------
def test_cyclegan_config_defaults_and_checkpoint_metric():
    cfg = config()
    m = cfg.model
    assert (cfg.task, cfg.data.kind, m.gan_mode, m.cycle_weight, m.identity_weight, m.pool_size) == (
        "translation", "unpaired", "lsgan", 10.0, 0.5, 50)
    assert m.generator.kind == "resnet" and m.generator.norm == "instance" and m.discriminator.norm == "instance"
    assert cfg.augmentation.noise == 0 and cfg.augmentation.blur == 0 and cfg.augmentation.flip
    assert (cfg.best_metric, cfg.best_mode) == ("val/loss_cycle", "min")
    assert validate_config({"data": {"input_dir": "a", "target_dir": "b"}}).best_mode == "max"


@pytest.mark.parametrize("raw, message", [
    ({"model": {"name": "cyclegan", "cycle_wieght": 5}, "data": {"a_dir": "a", "b_dir": "b"}},
     "unknown key 'model.cycle_wieght' (did you mean 'model.cycle_weight'?)"),
    ({"model": {"name": "cyclegan"}, "data": {"a_dir": "a", "bdir": "b"}},
     "unknown key 'data.bdir' (did you mean 'data.b_dir'?)"),
    ({"model": {"name": "cyclegan"}, "data": {"input_dir": "a", "target_dir": "b"}}, "give data.a_dir and data.b_dir"),
    ({"model": {"name": "pix2pix"}, "data": {"a_dir": "a", "b_dir": "b"}}, "give data.input_dir and data.target_dir"),
    ({"model": {"name": "cyclegan"}, "task": "segmentation", "data": {"a_dir": "a", "b_dir": "b"}}, "set task: translation"),
    ({"model": {"name": "cyclegan"}, "target_normalization": {"mode": "dtype"}, "data": {"a_dir": "a", "b_dir": "b"}},
     "remove target_normalization"),
    ({"model": {"name": "cyclegan", "generator": {"n_blocks": 2}}, "data": {"a_dir": "a", "b_dir": "b", "patch_size": 66}},
     "multiple of 4"),
    ({"model": {"name": "cyclegan"}, "data": {"a_dir": "a", "b_dir": "b", "patch_size": 16}},
     "data.patch_size 16 is too small for the 3-layer PatchGAN (at least 24 px)"),
])
def test_config_errors_are_one_line_and_name_the_key(raw, message):
    with pytest.raises(UserError) as error:
        validate_config(raw)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_identity_loss_with_unequal_channel_counts_is_a_config_error():
    with pytest.raises(UserError, match=r"model.identity_weight.*A has 1 channel\(s\) and B 3; set model.identity_weight=0"):
        build_model(config(), 1, 3, "uint8", "uint8")
    model = build_model(config(model={"identity_weight": 0}), 1, 3, "uint8", "uint8")
    assert model.generator_ba(torch.zeros(1, 3, 16, 16)).shape == (1, 1, 16, 16)


# --- the module ---------------------------------------------------------------------------
def test_forward_runs_the_direction_asked_for():
    torch.manual_seed(0)
    model = build_model(config(), 1, 1, "uint8", "uint8").eval()
    assert isinstance(model, CycleGAN) and model.direction == "AtoB" and model.size_multiple == 4
    x = torch.randn(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), model.generator(x))
        model.direction = "BtoA"
        assert torch.equal(model(x), model.generator_ba(x))
    assert "direction" not in model.hparams
    with pytest.raises(UserError, match="use AtoB or BtoA"):
        model.direction = "both"


def test_one_training_step_updates_all_four_networks():
    torch.manual_seed(0)
    model = build_model(config(), 1, 1, "uint8", "uint8")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizers, _ = model.configure_optimizers()
    model.optimizers = lambda: optimizers
    model.manual_backward = lambda loss: loss.backward()
    model.step_schedulers = lambda: None
    model.log = model.log_dict = lambda *a, **k: None
    model.training_step({"a": torch.randn(2, 1, 24, 24), "b": torch.randn(2, 1, 24, 24)}, 0)
    for net in ("generator", "generator_ba", "discriminator_a", "discriminator_b"):
        assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items() if k.startswith(net + "."))
    assert len(model.pool_a) == 2 and len(model.pool_b) == 2


# --- end to end ---------------------------------------------------------------------------
@pytest.mark.slow
def test_larvae_train_load_and_predict_both_directions(tmp_path):
    from img2img.inference.predictor import Predictor
    from img2img.models.checkpoint import load_model

    data = tmp_path / "larvae"
    assert main(["synth", "larvae", "--output", str(data), "--n", "4", "--size", "96"]) == 0
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"name": "cyclegan", "generator": {"n_blocks": 2, "base_channels": 8, "upsample": "bilinear"},
                  "discriminator": {"base_channels": 8}},
        "data": {"a_dir": str(data / "sim"), "b_dir": str(data / "real"), "patch_size": 64, "val_images": 2,
                 "num_workers": 0},
        "normalization": {"mode": "dtype"},
        "schedule": {"steps": 4}, "trainer": {"val_every_steps": 2, "samples": 2},
        "output_dir": str(tmp_path / "run"),
    }))
    assert main(["train", str(path)]) == 0
    run = tmp_path / "run"
    header = (run / "logs" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    assert "val/loss_cycle_a" in header and "val/loss_cycle_b" in header
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_000002.png", "step_000004.png"]
    best = run / "checkpoints" / "best.ckpt"
    model = load_model(best)
    assert isinstance(model, CycleGAN) and model.hparams["input_dtype"] == model.hparams["target_dtype"] == "uint8"

    image = tifffile.imread(data / "sim" / "larvae_0000.tif")
    predictor = Predictor.from_checkpoint(best, device="cpu")
    to_real = predictor.predict(image)
    predictor.model.direction = "BtoA"
    to_sim = predictor.predict(tifffile.imread(data / "real" / "larvae_0000.tif"))
    for out in (to_real, to_sim):
        assert out.shape == image.shape and out.dtype == image.dtype
    assert not np.array_equal(to_real, image)
    out = tmp_path / "to_sim"
    assert main(["infer", str(data / "real"), "--model", str(best), "--output", str(out), "--direction", "BtoA",
                 "--device", "cpu"]) == 0
    result = tifffile.imread(out / "larvae_0000.tif")
    np.testing.assert_array_equal(result, to_sim)  # the CLI runs the same B -> A path
