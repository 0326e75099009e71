"""Fine-tuning (`img2img train --init`, `init_from`): training starts exactly from a checkpoint's
weights, from the slim float16 form too, with the network's sections taken from the checkpoint."""

import pytest
import pytorch_lightning as pl
import torch
import yaml

from experiments.make_builtin_model import slim_checkpoint
from img2img.builtin import builtin_model_path
from img2img.cli import main
from img2img.config.loading import validate_config
from img2img.training import train
from img2img.training.finetune import FROM_CHECKPOINT
from model_builders import save_checkpoint, untrained


class FirstWeights(pl.Callback):
    """Every tensor of the model when training starts, before the first step."""

    def on_train_start(self, trainer, pl_module):
        self.state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


def data(cells) -> dict:
    return {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 64, "batch_size": 2,
            "patches_per_image": 1, "num_workers": 0}


@pytest.mark.parametrize("slim", [False, True], ids=["full", "slim-float16"])
def test_fine_tuning_starts_from_the_checkpoints_weights(cells, tmp_path, capsys, slim):
    model = untrained()  # generator re-initialised: unlike any fresh model
    with torch.no_grad():
        for p in model.discriminator.parameters():
            p.add_(torch.randn_like(p))  # nor may the discriminator match a fresh one by seed
    source = save_checkpoint(model, tmp_path / "source.ckpt")
    if slim:
        slim_checkpoint(source, tmp_path / "slim.ckpt")
        source = tmp_path / "slim.ckpt"
    expected = torch.load(source, weights_only=True)["state_dict"]
    assert (expected["generator.down.0.0.weight"].dtype == torch.float16) == slim
    config = validate_config({
        "model": {"name": "pix2pix", "generator": {"base_channels": 16}},  # replaced by the checkpoint's
        "data": data(cells), "schedule": {"steps": 1}, "trainer": {"accelerator": "cpu", "samples": 0},
        "output_dir": str(tmp_path / "run"), "init_from": str(source),
    })
    first = FirstWeights()
    train(config, progress=False, callbacks=[first])
    assert capsys.readouterr().out == ""  # progress=False (the napari plugin) prints nothing
    # The slim form (the built-in model's) leaves the discriminator out: training starts a fresh one.
    assert {k.split(".")[0] for k in expected} == ({"generator"} if slim else {"generator", "discriminator"})
    for key, value in expected.items():
        assert first.state[key].dtype == (torch.float32 if value.is_floating_point() else value.dtype)
        assert torch.equal(first.state[key], value.to(first.state[key].dtype)), key
    saved = yaml.safe_load((tmp_path / "run/config.yaml").read_text())
    assert saved["model"]["generator"]["base_channels"] == 8 and saved["init_from"] == str(source)
    log = (tmp_path / "run/train.log").read_text()
    loaded = "generator" if slim else "generator, discriminator"
    assert "fine-tuning from" in log and f"weights of {loaded} loaded" in log
    assert "starting at step 0 of 1" in log  # a fresh schedule, not the checkpoint's step


def test_fine_tuning_the_builtin_model_from_the_command_line(cells, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"data": data(cells), "schedule": {"steps": 1}, "trainer": {"samples": 0},
                                    "output_dir": str(tmp_path / "run")}))
    assert main(["train", str(path), "--init", "builtin:nuclei"]) == 0
    stored = torch.load(builtin_model_path("nuclei"), weights_only=True)["hyper_parameters"]["config"]
    taken = [s for s in FROM_CHECKPOINT if s in stored]
    kept = [s for s in FROM_CHECKPOINT if s not in stored]
    line = f"fine-tuning from builtin:nuclei: {', '.join(taken)} from the checkpoint"
    line += f" (not stored there, kept from the config: {', '.join(kept)})" if kept else ""
    assert line in capsys.readouterr().out
    saved = yaml.safe_load((tmp_path / "run/config.yaml").read_text())
    generator = saved["model"]["generator"]
    assert (generator["depth"], generator["base_channels"]) == (stored["model"]["generator"]["depth"],
                                                                stored["model"]["generator"]["base_channels"])
    assert saved["init_from"] == "builtin:nuclei"
