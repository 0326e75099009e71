"""EMA of the generators: the average's arithmetic, and inference running the EMA weights."""

import numpy as np
import torch
from torch import nn

from img2img.config.schema import TrainConfig
from img2img.inference import Predictor
from img2img.models.ema import EMA
from img2img.models.registry import build_model
from model_builders import save_checkpoint


def test_ema_moves_towards_the_live_weights_after_a_warm_up():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    ema = EMA({"g": net}, decay=0.9)
    assert ema.decay_at(0) == 0.1 and ema.decay_at(1000) == 0.9
    start = ema.nets["g"][0].weight.clone()
    with torch.no_grad():
        net[0].weight.add_(1.0)
        net[1].running_mean.add_(1.0)
        net[1].num_batches_tracked += 5
    ema.update({"g": net}, step=1000)
    torch.testing.assert_close(ema.nets["g"][0].weight, start + 0.1)
    torch.testing.assert_close(ema.nets["g"][1].running_mean, torch.full((2,), 0.1))
    assert ema.nets["g"][1].num_batches_tracked == 5 and not ema.nets["g"][0].weight.requires_grad


def test_inference_runs_the_ema_weights_when_the_checkpoint_has_them(tmp_path):
    config = TrainConfig.model_validate({
        "task": "translation",
        "model": {"name": "pix2pix", "generator": {"depth": 3, "base_channels": 8, "dropout": 0.0}},
        "data": {"input_dir": "unused", "target_dir": "unused", "patch_size": 32},
        "trainer": {"ema_decay": 0.99},
    })
    model = build_model(config, 1, 1, "uint8", "uint8")
    model.setup("fit")  # what Trainer.fit does first: the EMA copy appears
    with torch.no_grad():
        for p in model.ema.nets["generator"].parameters():
            p.add_(0.05)
    assert model.eval_net("generator") is model.ema.nets["generator"]  # validation uses the average
    averaged = {k: v.clone() for k, v in model.ema.nets["generator"].state_dict().items()}
    predictor = Predictor.from_checkpoint(save_checkpoint(model, tmp_path / "ema.ckpt"), device="cpu", precision="32")
    loaded = predictor.model
    assert not hasattr(loaded, "ema")
    for key, value in loaded.generator.state_dict().items():
        torch.testing.assert_close(value, averaged[key])
    image = np.random.default_rng(0).integers(0, 255, (32, 32)).astype(np.uint8)
    with torch.no_grad():
        x = torch.from_numpy(config.normalization.normalize(image[None])).float()[None]
        expected = model.ema.nets["generator"].eval()(x)
        assert torch.allclose(loaded(x), expected, atol=1e-6)
    assert predictor.predict(image).shape == (32, 32)
