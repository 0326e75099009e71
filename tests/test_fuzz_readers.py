"""Property-based fuzzing of the image readers: random bytes, and valid TIFF/PNG/OME-Zarr files
truncated or with bytes flipped or inserted. Reading (eagerly or lazily, pixels then touched)
must end in an image or a one-line UserError, never another exception.

Bounded examples by default; the long campaign: `pytest -m fuzz --hypothesis-profile=long`.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st

from img2img.errors import UserError
from img2img.io.images import read_image, read_labels, write_image
from img2img.io.metadata import Calibration

pytestmark = pytest.mark.fuzz


@pytest.fixture(autouse=True, scope="module")
def small_decode_limit():
    """Mutated headers declare images of gigabytes; decoding them would make this test slow and
    hungry, not stronger (the refusal itself is tested in test_hostile_files.py)."""
    from img2img.io import tiff

    tiff.DECODE_LIMIT_BYTES, before = 64 * 2**20, tiff.DECODE_LIMIT_BYTES
    yield
    tiff.DECODE_LIMIT_BYTES = before

VALID = {  # kind -> (file name, writer of a small valid file)
    "tiff16": ("a.tif", lambda p: tifffile.imwrite(p, np.arange(48 * 40, dtype=np.uint16).reshape(48, 40))),
    "tiff_float_rgb": ("a.tif", lambda p: tifffile.imwrite(p, np.linspace(0, 1, 3 * 32 * 24, dtype=np.float32).reshape(32, 24, 3))),
    "tiff_zlib_stack": ("a.tiff", lambda p: tifffile.imwrite(p, np.ones((3, 32, 32), np.uint8), compression="zlib", metadata={"axes": "ZYX"})),
    "png8_rgb": ("a.png", lambda p: write_image(p, np.full((20, 30, 3), 7, np.uint8), axes="YXC")),
    "png16": ("a.png", lambda p: write_image(p, np.arange(600, dtype=np.uint16).reshape(20, 30))),
    "jpg": ("a.jpg", lambda p: write_image(p, np.full((16, 16), 100, np.uint8))),
}


def mutate(data: bytes, how: str, position: float, payload: bytes) -> bytes:
    at = int(position * len(data))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes(b ^ 0xFF for b in payload[:8]) + data[at + len(payload[:8]):]
    return data[:at] + payload + data[at:]  # insert


def read_fully(path: Path, lazy: bool) -> None:
    """Read and touch every pixel; only an image or a UserError may come out."""
    try:
        image = read_image(path, lazy=lazy)
        pixels = np.asarray(image.data)
        assert pixels.ndim >= 2 and len(image.axes) == pixels.ndim
    except UserError as exc:
        assert "\n" not in str(exc) and str(exc), repr(exc)


mutations = st.tuples(st.sampled_from(["truncate", "flip", "insert"]), st.floats(0, 1), st.binary(min_size=1, max_size=64))


@given(kind=st.sampled_from(sorted(VALID)), mutation=mutations, lazy=st.booleans())
def test_damaged_image_files_read_or_fail_in_one_line(kind, mutation, lazy):
    name, write = VALID[kind]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        write(path)
        path.write_bytes(mutate(path.read_bytes(), *mutation))
        read_fully(path, lazy)


@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".tif", ".tiff", ".png", ".jpg", ".jpeg"]))
def test_random_bytes_read_or_fail_in_one_line(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"noise{suffix}"
        path.write_bytes(data)
        read_fully(path, lazy=False)
        try:
            read_labels(path)
        except UserError:
            pass


@given(target=st.sampled_from(["attributes", "chunk", "array meta"]), mutation=mutations, lazy=st.booleans())
def test_damaged_ome_zarr_stores_read_or_fail_in_one_line(target, mutation, lazy):
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "a.ome.zarr"
        write_image(store, np.arange(2 * 40 * 30, dtype=np.uint16).reshape(2, 40, 30), axes="CYX",
                    resolution=Calibration(0.5, 0.5, unit="micrometer"))
        files = sorted(p for p in store.rglob("*") if p.is_file())
        pick = {"attributes": [p for p in files if p.name == ".zattrs"],
                "array meta": [p for p in files if p.name == ".zarray"],
                "chunk": [p for p in files if not p.name.startswith(".")]}[target]
        victim = pick[0]
        victim.write_bytes(mutate(victim.read_bytes(), *mutation))
        read_fully(store, lazy)
