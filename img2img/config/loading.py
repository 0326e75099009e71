"""YAML + `--set key=value` overrides -> a validated `TrainConfig`, with one-line errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from img2img.config.schema import (
    ALL_GENERATOR_CONFIGS, DATA_CONFIGS, DEFAULT_MODEL, GENERATOR_CONFIGS, MODEL_CONFIGS, TrainConfig,
)
from img2img.errors import UserError
from img2img.kinds import find_kind


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text file; a config is a YAML file such as experiments/cell_segmentation.yaml") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: a config must be a mapping of keys to values")
    for item in overrides:
        apply_override(raw, item)
    return validate_config(raw, source=str(path))


def validate_config(raw: dict[str, Any], source: str = "config") -> TrainConfig:
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        model = raw.get("model") if isinstance(raw.get("model"), dict) else {}
        generator = model.get("generator") if isinstance(model.get("generator"), dict) else {}
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        kind = find_kind(model.get("name", DEFAULT_MODEL))  # the keys that pick a schema, as far as they are text
        default_generator, default_data = (kind.default_generator, kind.data[0]) if kind else ("unet", "paired")
        classes = {"model": kind.config if kind else None,
                   "generator": ALL_GENERATOR_CONFIGS.get(_text(generator.get("kind", default_generator))),
                   "data": DATA_CONFIGS.get(_text(data.get("kind", default_data)))}
        problems = [_describe(e, classes) for e in exc.errors()]
        raise UserError(f"{source}: " + "; ".join(problems)) from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Set a dotted key (`schedule.steps=500`); the value is parsed as YAML (numbers, lists, ...)."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UserError(f"--set {item!r}: expected key=value, e.g. --set schedule.steps=500")
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"--set {item!r}: '{part}' is a value, not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"--set {item!r}: the value is not valid YAML ({problem}); "
                        f"quote text, e.g. --set {key.strip()}=\"'...'\"") from None


def _describe(error: dict[str, Any], classes: dict[str, type[BaseModel] | None]) -> str:
    loc = _without_tags(error["loc"])
    key = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        hint = _suggest(loc, classes)
        return f"unknown key '{key}'" + (f" (did you mean '{hint}'?)" if hint else "")
    if error["type"] == "missing":
        return f"missing required key '{key}'"
    if error["type"] == "bool_for_number":  # raised for a section, naming its key (schema.Section)
        return f"'{'.'.join(loc + [error['ctx']['field']])}': {error['msg']}"
    if error["type"] == "union_tag_invalid":
        if loc[-1:] == ["generator"]:
            kinds = error.get("ctx", {}).get("expected_tags") or ", ".join(sorted(GENERATOR_CONFIGS))
            return f"'{key}.kind': unknown generator {error['input'].get('kind')!r}; choose from {kinds}"
        if loc[-1:] == ["data"]:
            return f"'{key}.kind': unknown data kind {error['input'].get('kind')!r}; choose from {sorted(DATA_CONFIGS)}"
        return f"'{key}.name': unknown model {error['input'].get('name')!r}; choose from {sorted(MODEL_CONFIGS)}"
    message = error["msg"].removeprefix("Value error, ")
    return message if key == "(top level)" else f"'{key}': {message}"


def _without_tags(loc: tuple) -> list[str]:
    """pydantic puts union tags into the location (model.pix2pix.generator.unet.depth); users never write them."""
    parts = [str(p) for p in loc]
    tags = {"model": MODEL_CONFIGS, "generator": ALL_GENERATOR_CONFIGS, "data": DATA_CONFIGS}
    return [p for i, p in enumerate(parts) if not (i and parts[i - 1] in tags and p in tags[parts[i - 1]])]


def _suggest(loc: list[str], classes: dict[str, type[BaseModel] | None]) -> str | None:
    """The closest valid key in the same section, for typos."""
    section: type[BaseModel] | None = TrainConfig
    parents = {"model": TrainConfig, "data": TrainConfig, "generator": classes["model"]}
    for part in loc[:-1]:
        if part in classes and section is not None and section is parents[part]:
            section = classes[part]
            continue
        field = section.model_fields.get(part) if section else None
        annotation = getattr(field, "annotation", None)
        section = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if section is None:
        return None
    match = difflib.get_close_matches(loc[-1], list(section.model_fields), n=1)
    return ".".join(loc[:-1] + match) if match else None
