"""Models that ship inside the package, so a first run needs no file to find.

`nuclei`: a small Pix2Pix segmenter of fluorescent nuclei, trained on the synthetic generator
by `experiments/make_builtin_model.py`. It is a starting point and a test fixture, not a
substitute for a model trained on your own images.
"""

from __future__ import annotations

from pathlib import Path

from img2img.errors import UserError

PREFIX = "builtin:"
BUILTIN_MODELS: dict[str, str] = {"nuclei": "nuclei_segmenter.ckpt"}


def builtin_model_path(name: str) -> Path:
    """Path of a built-in checkpoint by name (`nuclei`), or a one-line error."""
    if name not in BUILTIN_MODELS:
        raise UserError(f"unknown built-in model {name!r}; choose from {', '.join(BUILTIN_MODELS)}")
    path = Path(__file__).with_name(BUILTIN_MODELS[name])
    if not path.is_file():
        raise UserError(f"{path}: built-in model missing; rebuild it with 'python experiments/make_builtin_model.py'")
    return path


def resolve_model_path(model: str | Path) -> Path:
    """A checkpoint path as given, or `builtin:NAME` turned into the packaged file."""
    text = str(model)
    return builtin_model_path(text[len(PREFIX):]) if text.startswith(PREFIX) else Path(model)
