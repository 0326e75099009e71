"""BioImage.IO packages as models: ours carry their img2img checkpoint, others run through bioimageio.core.

A package is a zip holding `rdf.yaml` (or `bioimageio.yaml`), or a folder holding one. Packages
written by `img2img export` attach the slim checkpoint they came from (`img2img_model.ckpt`), so
every entry point that reads checkpoints (infer, evaluate, info, napari) runs them exactly as the
checkpoint: tiling, object size and label decoding included. Any other package is "foreign" and is
run by `inference/bmz_predictor.py` with its own pre- and post-processing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from img2img.errors import UserError

DESCRIPTION_NAMES = ("rdf.yaml", "bioimageio.yaml")
CHECKPOINT_ATTACHMENT = "img2img_model.ckpt"


def is_package(path: Path) -> bool:
    """Whether `path` is to be read as a package: any .zip file (checkpoints are never zips by name;
    `check_package` then tells a package from another zip), or a folder with a description file."""
    path = Path(path)
    if path.is_dir():
        return any((path / name).is_file() for name in DESCRIPTION_NAMES)
    return path.suffix.lower() == ".zip" and path.is_file()


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path}: not a readable zip file ({exc}); pass a BioImage.IO package or a .ckpt") from None


def check_package(path: Path) -> None:
    """A one-line error unless `path` holds a BioImage.IO description."""
    path = Path(path)
    if path.is_dir():
        return
    names = _zip_names(path)
    if not any(n.rsplit("/", 1)[-1] in DESCRIPTION_NAMES for n in names):
        raise UserError(f"{path}: not a BioImage.IO package (no rdf.yaml or bioimageio.yaml inside); "
                        "pass a model package or a .ckpt")


def checkpoint_bytes(path: Path) -> bytes | None:
    """The attached img2img checkpoint of a package, or None for a package from elsewhere."""
    path = Path(path)
    check_package(path)
    if path.is_dir():
        attached = path / CHECKPOINT_ATTACHMENT
        return attached.read_bytes() if attached.is_file() else None
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.rsplit("/", 1)[-1] == CHECKPOINT_ATTACHMENT]
        return z.read(names[0]) if names else None


def is_foreign_package(path: str | Path) -> bool:
    """A package that does not carry an img2img checkpoint (run through bioimageio.core)."""
    text = str(path)
    if text.startswith("builtin:"):
        return False
    return is_package(Path(path)) and checkpoint_bytes(Path(path)) is None


def checkpoint_source(path: Path):
    """What `torch.load` should read for `path`: the attached checkpoint of one of our packages
    (as a file-like object), or the path itself."""
    if not is_package(path):
        return path
    data = checkpoint_bytes(path)
    if data is None:
        raise UserError(f"{path}: a BioImage.IO package not made by img2img export; img2img infer runs it "
                        "(with its own processing), but it holds no img2img checkpoint for this command")
    return io.BytesIO(data)
