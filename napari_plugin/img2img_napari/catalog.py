"""The models the Run widget offers: the built-in ones, files the user opened, and models the
Train widget made in this session. One shared list, so a model trained a minute ago is
selectable at once in every Run widget."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psygnal import Signal

from img2img.builtin import BUILTIN_MODELS, PREFIX


@dataclass(frozen=True)
class ModelEntry:
    label: str  # what the user sees in the menu
    source: str  # a checkpoint path or builtin:NAME
    short_name: str  # used in result layer names: <layer>_<short_name>


class ModelCatalog:
    changed = Signal(object)  # emits the entry just added

    def __init__(self) -> None:
        self.entries: list[ModelEntry] = [
            ModelEntry(f"built-in: {name} segmenter", PREFIX + name, name) for name in BUILTIN_MODELS
        ]

    def add(self, path: str | Path, label: str | None = None) -> ModelEntry:
        """Add a checkpoint (or return the entry it already has)."""
        source = str(Path(path).resolve())
        for entry in self.entries:
            if entry.source == source:
                return entry
        stem = Path(path).stem
        if stem in ("best", "last"):  # trained runs: <run folder>/checkpoints/best.ckpt
            stem = Path(path).resolve().parent.parent.name or stem
        entry = ModelEntry(label or f"{stem} ({Path(path).name})", source, stem)
        self.entries.append(entry)
        self.changed.emit(entry)
        return entry


CATALOG = ModelCatalog()
