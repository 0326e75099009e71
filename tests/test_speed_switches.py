"""What trainer.precision / channels_last / compile 'auto' resolve to, and applying them."""

import pytest
import torch

from img2img.config.schema import TrainConfig, TrainerConfig
from img2img.errors import UserError
from img2img.models.registry import build_model
from img2img.training import speed
from img2img.training.speed import Speed, SpeedSwitches, resolve_speed


def test_auto_is_bf16_only_with_bf16_units_on_a_cpu_and_everything_on_a_gpu(monkeypatch):
    monkeypatch.setattr(speed, "cpu_has_bf16_units", lambda: False)
    assert resolve_speed(TrainerConfig(accelerator="cpu")) == Speed("32", False, False)
    monkeypatch.setattr(speed, "cpu_has_bf16_units", lambda: True)
    assert resolve_speed(TrainerConfig(accelerator="cpu")) == Speed("bf16-mixed", None, False)  # NHWC: by the networks
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_speed(TrainerConfig()) == Speed("bf16-mixed", True, True)
    monkeypatch.setattr(speed, "CPU_BF16_TRAINING_HELPS", False)
    assert resolve_speed(TrainerConfig(accelerator="cpu")) == Speed("32", False, False)


def test_explicit_settings_win():
    t = TrainerConfig(accelerator="cpu", precision="bf16-mixed", channels_last=False, compile=True)
    assert resolve_speed(t) == Speed("bf16-mixed", False, True)


def test_channels_last_switch_converts_every_network():
    config = TrainConfig.model_validate({"model": {"generator": {"depth": 3, "base_channels": 8}},
                                         "data": {"input_dir": "x", "target_dir": "y", "patch_size": 32}})
    model = build_model(config, 1, 2, "uint8")
    SpeedSwitches(Speed("32", True, False)).on_fit_start(None, model)
    convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)


def test_on_a_cpu_nhwc_is_chosen_from_the_networks():
    """Plain and up-sampling convolutions train faster in NHWC with bf16 on a CPU; transposed
    convolutions and instance norm slower (measured, `nhwc_pays_on_cpu`)."""
    def n2v_like():
        config = TrainConfig.model_validate({"model": {"name": "n2v", "generator": {"base_channels": 8}},
                                             "data": {"image_dir": "x", "patch_size": 32}})
        return build_model(config, 1, 1, "uint16")

    def cyclegan_like():
        config = TrainConfig.model_validate({"model": {"name": "cyclegan", "generator": {"n_blocks": 1, "base_channels": 8}},
                                             "data": {"a_dir": "x", "b_dir": "y", "patch_size": 32}})
        return build_model(config, 1, 1, "uint8", "uint8")

    for make, expected in ((n2v_like, True), (cyclegan_like, False)):
        model = make()
        assert speed.nhwc_pays_on_cpu(model) is expected
        SpeedSwitches(Speed("bf16-mixed", None, False)).on_fit_start(None, model)
        # (a one-channel weight is contiguous in both layouts, so it tells nothing)
        convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1]
        assert convs and all(w.is_contiguous(memory_format=torch.channels_last) == expected for w in convs)


def test_sync_batchnorm_on_a_cpu_is_a_one_line_error(tmp_path):
    from img2img.training.run import _build_trainer
    config = TrainConfig.model_validate({"data": {"input_dir": "x", "target_dir": "y"}, "output_dir": str(tmp_path),
                                         "trainer": {"accelerator": "cpu", "sync_batchnorm": True}})
    with pytest.raises(UserError, match="SyncBatchNorm runs on GPUs only"):
        _build_trainer(config, [], progress=False)


def test_training_leaves_the_processs_float_state_as_it_found_it(trained):
    """Training flushes subnormal floats for speed (process-wide CPU state); a napari session or a
    pipeline that trains and then computes on must get IEEE floats back (it once kept the switch,
    which broke later code that needs subnormals)."""
    from img2img.training.speed import _flushing_denormals

    assert (trained / "checkpoints" / "last.ckpt").exists()  # a training ran in this process
    assert not _flushing_denormals()
    assert float("5e-324") * 1.0 > 0.0
