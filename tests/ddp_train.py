"""Run by test_ddp.py in a subprocess: `python tests/ddp_train.py CONFIG.yaml OUT_DIR`. Lightning
starts the second process by running this script again; each rank writes what it ended with."""

import hashlib
import json
import sys
from pathlib import Path

import pytorch_lightning as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from img2img.config.loading import load_config  # noqa: E402
from img2img.training import train  # noqa: E402


class Report(pl.Callback):
    """Per rank: a hash of every parameter (EMA copies included) and of the first batch seen."""

    def __init__(self, folder: Path):
        self.folder, self.first_batch = folder, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.first_batch is None:
            self.first_batch = hashlib.sha1(next(iter(batch.values())).numpy().tobytes()).hexdigest()

    def on_train_end(self, trainer, pl_module):
        weights = {name: hashlib.sha1(p.detach().contiguous().numpy().tobytes()).hexdigest()
                   for name, p in pl_module.named_parameters()}
        report = {"world_size": trainer.world_size, "steps": pl_module.training_steps_done,
                  "first_batch": self.first_batch, "weights": weights}
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    config, folder = load_config(Path(sys.argv[1])), Path(sys.argv[2])
    train(config, progress=False, callbacks=[Report(folder)])
