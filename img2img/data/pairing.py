"""Match input and target files by name (without suffix), so `a.png` pairs with `a.tif`."""

from __future__ import annotations

from pathlib import Path

from img2img.errors import UserError
from img2img.io.images import list_images


def pair_files(input_dir: Path, target_dir: Path, pattern: str = "*") -> list[tuple[Path, Path]]:
    """All (input, target) pairs; a file without a partner is an error that lists the names."""
    inputs = _by_stem(input_dir, pattern)
    targets = _by_stem(target_dir, pattern)
    missing_target = sorted(set(inputs) - set(targets))
    missing_input = sorted(set(targets) - set(inputs))
    if missing_target:
        raise UserError(f"{target_dir}: no target for {_names(missing_target)} from {input_dir}; add them or remove the inputs")
    if missing_input:
        raise UserError(f"{input_dir}: no input for {_names(missing_input)} from {target_dir}; add them or remove the targets")
    return [(inputs[s], targets[s]) for s in sorted(inputs)]


def _by_stem(folder: Path, pattern: str) -> dict[str, Path]:
    files = list_images(folder, pattern)
    if not files:
        raise UserError(f"{folder}: no images matching '{pattern}' (.tif, .tiff, .png, .jpg); check the folder")
    found: dict[str, Path] = {}
    for path in files:
        if path.stem in found:
            raise UserError(f"{folder}: both {found[path.stem].name} and {path.name} exist; keep one per name")
        found[path.stem] = path
    return found


def _names(stems: list[str], show: int = 5) -> str:
    more = f" and {len(stems) - show} more" if len(stems) > show else ""
    return ", ".join(stems[:show]) + more
