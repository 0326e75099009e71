"""The DSB 2018 nuclei (../shared/data/dsb2018) as train/val/test folders, by a fixed written rule.

The split rule (docs/real_nuclei.md): within each modality of index.csv, images are ordered by
the SHA-256 of their id; the first ceil(20%) are test, the next ceil(10%) validation, the rest
training. It depends on nothing but the ids, so anyone can recompute it, and adding images to one
modality never moves an image of another. The result is committed as dsb2018_split.csv.

    python experiments/real_nuclei/dsb2018.py --write-split          # recompute the CSV
    python experiments/real_nuclei/dsb2018.py --folders WORKDIR       # WORKDIR/{train,val,test}/{images,masks}

Folders hold symbolic links to the shared files, so nothing is copied (and nothing of the data set
ever enters the repository).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data" / "dsb2018"
SPLIT_CSV = HERE / "dsb2018_split.csv"
SHARES = {"test": 0.2, "val": 0.1}
# index.csv's modality names, shortened for tables.
MODALITIES = {
    "fluorescence": "fluorescence",
    "color (histology or stained brightfield)": "histology",
    "brightfield (dark nuclei)": "brightfield",
}


def compute_split(index_csv: Path = DATA / "index.csv") -> list[dict]:
    """Rows of (id, modality, split, nuclei, height, width) by the rule above."""
    rows = list(csv.DictReader(index_csv.open()))
    out = []
    for long_name, short in MODALITIES.items():
        ids = sorted((r for r in rows if r["modality"] == long_name),
                     key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        n_test = math.ceil(SHARES["test"] * len(ids))
        n_val = math.ceil(SHARES["val"] * len(ids))
        for k, r in enumerate(ids):
            split = "test" if k < n_test else "val" if k < n_test + n_val else "train"
            out.append({"id": r["id"], "modality": short, "split": split, "nuclei": r["nuclei"],
                        "height": r["height"], "width": r["width"]})
    return sorted(out, key=lambda r: (r["split"], r["modality"], r["id"]))


def read_split(path: Path = SPLIT_CSV) -> list[dict]:
    return list(csv.DictReader(path.open()))


def make_folders(workdir: Path, data: Path = DATA, splits=("train", "val", "test"), modality: str | None = None,
                 limit: int | None = None, repeat: dict[str, int] | None = None) -> dict[str, Path]:
    """WORKDIR/SPLIT/{images,masks} of links to the shared files; returns {split: folder}.

    `repeat` ({modality: n}) links each training image of that modality n times (ID~1, ID~2, ...),
    so that a rare modality is drawn as often as n times its share: training samples images
    uniformly, and 63 histology images among 401 would otherwise get one crop in six."""
    folders = {}
    for split in splits:
        rows = [r for r in read_split() if r["split"] == split and modality in (None, r["modality"])][:limit]
        root = workdir / split
        for sub in ("images", "masks"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for r in rows:
            copies = (repeat or {}).get(r["modality"], 1) if split == "train" else 1
            for k in range(copies):
                name = r["id"] if k == 0 else f"{r['id']}~{k}"
                for sub, suffix in (("images", ".png"), ("masks", ".tif")):
                    link = root / sub / f"{name}{suffix}"
                    if not link.exists():
                        link.symlink_to((data / sub / f"{r['id']}{suffix}").resolve())
        folders[split] = root
    return folders


def modality_groups(split: str | None = None) -> dict[str, str]:
    """{image id: modality} for evaluation tables per modality."""
    return {r["id"]: r["modality"] for r in read_split() if split in (None, r["split"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-split", action="store_true", help="recompute dsb2018_split.csv from index.csv")
    parser.add_argument("--folders", type=Path, help="make train/val/test folders of links here")
    args = parser.parse_args()
    if args.write_split:
        rows = compute_split()
        with SPLIT_CSV.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        counts = {}
        for r in rows:
            counts[(r["split"], r["modality"])] = counts.get((r["split"], r["modality"]), 0) + 1
        print(SPLIT_CSV, counts)
    if args.folders:
        print(make_folders(args.folders))


if __name__ == "__main__":
    main()
