"""Fine-tuning (`init_from`, `img2img train --init`): a new run that starts from a trained model's
weights, with a fresh optimizer and learning-rate schedule (unlike `--resume`, which continues a run).

The sections that shape the network and its input come from the checkpoint, so its weights always
fit; everything about the new run (data, schedule, optimizer, augmentation, trainer, output_dir,
seed) stays the user's.
"""

from __future__ import annotations

from dataclasses import dataclass

from img2img.config.loading import validate_config
from img2img.config.schema import TrainConfig
from img2img.errors import UserError
from img2img.models.checkpoint import load_model, read_checkpoint
from img2img.models.base import ImageModule

# Taken from the checkpoint where it stores them; older checkpoints lack the last ones, and the
# config's values are kept for those.
FROM_CHECKPOINT = ("model", "task", "input_channels", "normalization", "segmentation")


@dataclass
class FineTune:
    path: str  # as the user gave it (a file or builtin:NAME)
    source: ImageModule  # the checkpoint's model, with the weights inference runs (its EMA where it kept one)
    taken: list[str]  # sections that came from the checkpoint
    kept: list[str]  # sections it does not store: the config's are kept
    stored: set[str]  # networks the checkpoint holds weights of (a slim one has no discriminator)

    def check_data(self, config: TrainConfig, in_channels: int, out_channels: int) -> None:
        """The data must have the channel counts the network was built for."""
        for what, trained, found in (("input", self.source.in_channels, in_channels),
                                     ("target", self.source.out_channels, out_channels)):
            if trained != found:
                hint = " (or set input_channels: gray or rgb)" if what == "input" and "input_channels" in self.kept else ""
                raise UserError(
                    f"{self.path}: was trained on {what} images with {trained} channel(s) but {_folder(config, what)} "
                    f"holds {found}; fine-tune on data with {trained}{hint}"
                )

    def load_weights(self, model: ImageModule) -> list[str]:
        """Copy each network of the checkpoint whose tensors all fit into `model` (float16 ones
        become float32); the networks inference runs must fit. Returns the names copied."""
        theirs, mine = self.source.state_dict(), model.state_dict()
        copied: dict = {}
        names = []
        for name, _ in model.named_children():
            keys = [k for k in mine if k.startswith(f"{name}.")]
            if name == "ema" or not keys or name not in self.stored:
                continue  # EMA copies are made from the loaded generator; a missing discriminator starts fresh
            if all(k in theirs and theirs[k].shape == mine[k].shape for k in keys):
                copied.update({k: theirs[k].to(mine[k].dtype) for k in keys})
                names.append(name)
            elif name in model.EMA_NETS:
                raise UserError(f"{self.path}: its {name} does not fit the model the config builds; "
                                "fine-tune with the checkpoint's own settings")
        model.load_state_dict(copied, strict=False)
        return names

    def summary(self, loaded: list[str]) -> str:
        """One line for the terminal and train.log."""
        kept = f" (not stored there, kept from the config: {', '.join(self.kept)})" if self.kept else ""
        return (f"fine-tuning from {self.path}: {', '.join(self.taken)} from the checkpoint{kept}; "
                f"weights of {', '.join(loaded)} loaded, optimizer and schedule fresh")


def fine_tune(config: TrainConfig) -> tuple[TrainConfig, FineTune]:
    """The config to train (the checkpoint's network sections in the user's config) and the source."""
    path = str(config.init_from)
    source = load_model(path)
    networks = {key.split(".")[0] for key in read_checkpoint(path)["state_dict"]}
    stored = source.hparams["config"]
    name, task = stored["model"]["name"], stored.get("task", "segmentation")
    given = config.model_fields_set
    if "model" in given and config.model.name != name:
        raise UserError(f"{path}: is a '{name}' checkpoint but the config trains '{config.model.name}'; fine-tune "
                        f"with model.name: {name}, or remove the model section (it comes from the checkpoint)")
    if "task" in given and config.task != task:
        raise UserError(f"{path}: is a {task} model but the config sets task: {config.task}; remove task "
                        "(it comes from the checkpoint) or start from a checkpoint of that task")
    taken = [s for s in FROM_CHECKPOINT if s in stored]
    raw = {**config.model_dump(mode="json"), **{s: stored[s] for s in taken}}
    merged = validate_config(raw, source=f"{path} (fine-tuning takes its {', '.join(taken)})")
    return merged, FineTune(path, source, taken, [s for s in FROM_CHECKPOINT if s not in taken], networks)


def _folder(config: TrainConfig, what: str):
    """The folder of the config's inputs or targets, for messages."""
    data = config.data
    if data.kind == "single":
        return data.image_dir
    if data.kind == "unpaired":
        return data.a_dir if what == "input" else data.b_dir
    return data.input_dir if what == "input" else data.target_dir
