"""The per-video positions file of simulated and translated videos: one row per animal and frame
(frame, id, x, y, heading_deg), as trackers and spreadsheets read it."""

from __future__ import annotations

import csv
from pathlib import Path

from img2img.errors import UserError

COLUMNS = ("frame", "id", "x", "y", "heading_deg")
HEADING = "heading_deg: direction the head points, atan2(dy, dx) in image axes (0 = +x, 90 = down the image)"


def read_positions(path: Path) -> list[dict]:
    """Rows with frame and id as int, x, y, heading_deg as float; a one-line error names what is wrong."""
    if not path.is_file():
        raise UserError(f"{path}: no positions file; each video folder needs positions.csv "
                        f"(columns {', '.join(COLUMNS)}), as 'img2img synth zebrafish' writes")
    with open(path, newline="") as handle:
        reader = csv.DictReader(line for line in handle if not line.startswith("#"))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            try:
                rows.append({"frame": int(row["frame"]), "id": int(row["id"]), "x": float(row["x"]),
                             "y": float(row["y"]), "heading_deg": float(row["heading_deg"])})
            except (TypeError, ValueError):
                raise UserError(f"{path}: row {number} is not numbers ({row}); fix or remove it") from None
    return rows


def write_positions(path: Path, rows: list[dict]) -> None:
    from img2img.io.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        handle.write(f"# {HEADING}; x = column, y = row, px from the top-left corner\n")
        writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
