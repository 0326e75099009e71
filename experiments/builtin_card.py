"""Add the model card to the packaged nuclei segmenter (img2img/builtin/nuclei_segmenter.ckpt).

The shipped checkpoint was trained before checkpoints carried model cards, so its training facts
are written in by hand here, copied from docs/real_nuclei.md (which says how each was measured):
data and split, steps, device and time, validation F1, and the held-out test scores beside
Otsu + watershed on the same 117 images. Weights and hyperparameters are left as they are.
Future rebuilds (make_builtin_model.py) keep the card training writes.

    python experiments/builtin_card.py
"""

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from img2img.io.atomic import atomic_path  # noqa: E402
from img2img.models.card import CARD_KEY  # noqa: E402

CHECKPOINT = ROOT / "img2img" / "builtin" / "nuclei_segmenter.ckpt"

CARD = {
    "source": "recorded from docs/real_nuclei.md (run C); the checkpoint predates model cards",
    "steps": 12000,
    "data": {"train_images": 401, "val_images": 60, "test_images": 117,
             "set": "DSB 2018 stage-1 training set (BBBC038, CC0): fluorescence, histology, brightfield; "
                    "histology x3 and brightfield x6 in training"},
    "device": "1 x CPU (2 cores, 1 thread), batch 8",
    "training_seconds": 52 * 60,
    "validation": {"f1": 0.845},
    "best_metric": "f1",
    "test": {"images": 117, "f1": 0.837, "dsb_score": 0.525, "fluorescence_f1": 0.867, "histology_f1": 0.741,
             "brightfield_f1": 0.671},
    "baseline": {"name": "Otsu + watershed", "images": 117, "f1": 0.713, "dsb_score": 0.426,
                 "fluorescence_f1": 0.790, "histology_f1": 0.644, "brightfield_f1": 0.044},
}


def main() -> None:
    checkpoint = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)
    checkpoint[CARD_KEY] = CARD
    with atomic_path(CHECKPOINT) as tmp:
        torch.save(checkpoint, tmp)
    print(f"{CHECKPOINT}: model card added")


if __name__ == "__main__":
    main()
