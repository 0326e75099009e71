"""Image groups (e.g. imaging modality) from a CSV, so evaluation reports each group apart:
a model that wins on average may still lose on the rare modality a user cares about."""

from __future__ import annotations

import csv
from pathlib import Path

from img2img.errors import UserError

NAME_COLUMNS = ("id", "name")
GROUP_COLUMNS = ("modality", "group")


def read_groups(path: str | Path) -> dict[str, str]:
    """{image name: group} from a CSV with a name column (`id` or `name`: file names without
    their suffix) and a group column (`modality` or `group`); other columns are ignored."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file; give a CSV with columns id (or name) and modality (or group)")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = columns
        name = next((c for c in NAME_COLUMNS if c in columns), None)
        group = next((c for c in GROUP_COLUMNS if c in columns), None)
        if name is None or group is None:
            raise UserError(f"{path}: needs a column id (or name) and a column modality (or group); "
                            f"its header is {', '.join(columns) or 'empty'}")
        groups: dict[str, str] = {}
        for row in reader:
            key, value = (row[name] or "").strip(), (row[group] or "").strip()
            if key and value and groups.setdefault(key, value) != value:
                raise UserError(f"{path}: {key} is in groups {groups[key]} and {value}; keep one row per image")
    if not groups:
        raise UserError(f"{path}: no rows with both a name and a group")
    return groups
