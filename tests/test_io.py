"""Reading/writing keeps pixel type and axes; bad files give one-line errors naming the file."""

import numpy as np
import pytest
import tifffile

from img2img.errors import UserError
from img2img.io.images import list_images, read_image, read_image_raw, read_labels, write_image


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("axes,shape", [("YX", (17, 23)), ("ZYX", (3, 17, 23)), ("CYX", (2, 17, 23)), ("YXC", (17, 23, 3))])
def test_tiff_round_trip_keeps_dtype_and_axes(tmp_path, dtype, axes, shape):
    rng = np.random.default_rng(0)
    data = (rng.random(shape) * 200).astype(dtype)
    path = write_image(tmp_path / "a.tif", data, axes=axes)
    image = read_image(path)
    assert image.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(image.data, data)
    assert image.axes == axes


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_png_jpg_rgb_round_trip(tmp_path, suffix):
    data = np.zeros((20, 30, 3), np.uint8)
    data[..., 0] = 200  # red stays red: the BGR/RGB swap is undone
    image = read_image(write_image(tmp_path / f"a{suffix}", data))
    assert image.axes == "YXC" and image.data.shape == (20, 30, 3)
    assert image.data[..., 0].mean() > 150 and image.data[..., 2].mean() < 50


def test_png_16bit_gray(tmp_path):
    data = np.arange(600, dtype=np.uint16).reshape(20, 30) * 100
    image = read_image(write_image(tmp_path / "a.png", data))
    assert image.axes == "YX" and image.data.dtype == np.uint16
    np.testing.assert_array_equal(image.data, data)


def test_float64_and_int16_are_read_as_float32(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.ones((4, 4), np.float64))
    assert read_image(tmp_path / "a.tif").data.dtype == np.float32


def test_unsupported_dtype_is_a_clear_error(tmp_path):
    tifffile.imwrite(tmp_path / "c.tif", np.ones((4, 4), np.complex64))
    with pytest.raises(UserError, match=r"c\.tif: pixel type complex64 is not supported"):
        read_image(tmp_path / "c.tif")


def test_corrupt_tiff_names_the_file(tmp_path):
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.ones((64, 64), np.uint16))
    bad = tmp_path / "bad.tif"
    bad.write_bytes(good.read_bytes()[:50])
    with pytest.raises(UserError, match=r"bad\.tif: cannot read TIFF"):
        read_image(bad)
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"junk\.png: cannot read image"):
        read_image(tmp_path / "junk.png")


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_image(tmp_path / "nope.tif")
    (tmp_path / "a.bmp").write_bytes(b"x")
    with pytest.raises(UserError, match="unsupported file type"):
        read_image(tmp_path / "a.bmp")


def test_write_is_atomic_and_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(UserError):
        write_image(tmp_path / "a.png", np.ones((4, 4), np.float32))  # PNG cannot hold float
    assert list(tmp_path.iterdir()) == []
    write_image(tmp_path / "b.tif", np.ones((4, 4), np.uint16))
    assert [p.name for p in tmp_path.iterdir()] == ["b.tif"]


def test_read_labels_accepts_integer_types_and_rejects_fractions(tmp_path):
    tifffile.imwrite(tmp_path / "m.tif", np.array([[0, 1], [2, 30_000_000]], np.int32))
    labels = read_labels(tmp_path / "m.tif")  # sparse ids are renumbered 1..N
    assert labels.dtype == np.uint16
    np.testing.assert_array_equal(labels, [[0, 1], [2, 3]])
    tifffile.imwrite(tmp_path / "f.tif", np.array([[0, 0.5], [1, 2]], np.float32))
    with pytest.raises(UserError, match="fractional"):
        read_labels(tmp_path / "f.tif")
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((2, 4, 4), np.uint16))
    with pytest.raises(UserError, match="one 2D label image"):
        read_labels(tmp_path / "s.tif")


def test_list_images_skips_hidden_temporaries(tmp_path):
    for name in ["b.tif", "a.png", ".a.tmp-1.tif", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.tif"]


def test_palette_and_rgb_png_masks(tmp_path):
    from PIL import Image as PILImage

    indices = np.zeros((8, 8), np.uint8)
    indices[2:4, 2:4], indices[5:7, 5:7] = 1, 2
    palette = PILImage.fromarray(indices, mode="P")
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_labels(tmp_path / "p.png"), indices)
    write_image(tmp_path / "rgb.png", np.repeat(indices[..., None], 3, axis=2))
    np.testing.assert_array_equal(read_labels(tmp_path / "rgb.png"), indices)


def test_nan_pixels_do_not_spread():
    from img2img.io.normalization import Normalization

    raw = np.random.default_rng(0).random((1, 20, 20)).astype(np.float32)
    raw[0, 0, 0] = np.nan
    x = Normalization().normalize(raw)
    assert np.isfinite(x).all() and x[0, 0, 0] == -1.0


# --- formats, names and calibration (issue 15) --------------------------------------------------
def test_io_modules_import_no_circle():
    """img2img/io/ is layered: leaf modules, one module per format, the registry, the facade."""
    import ast
    from pathlib import Path

    import img2img.io

    folder = Path(img2img.io.__file__).parent
    graph = {}
    for path in folder.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "img2img.io":
                deps |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("img2img.io."):
                deps.add(node.module.rsplit(".", 1)[1])
        graph[path.stem] = deps

    def reaches(start, goal, seen=()):
        return any(d == goal or (d not in seen and reaches(d, goal, (*seen, d))) for d in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m)] == []


def test_a_new_format_is_one_module(tmp_path, monkeypatch):
    import types

    from img2img.inference.outputs import check_template, plan_outputs
    from img2img.io import formats
    from img2img.io.metadata import Image

    npy = types.ModuleType("npy_format")
    npy.NAME, npy.SUFFIXES, npy.FOLDER = "numpy", (".npy",), False
    npy.read = lambda path, lazy=False, series=None: Image(np.load(path), "YX", path)
    npy.write = lambda path, data, axes, calibration=None, kind="image": np.save(path, data)
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, npy])
    data = np.arange(12, dtype=np.uint16).reshape(3, 4)
    write_image(tmp_path / "a.npy", data)
    np.testing.assert_array_equal(read_image(tmp_path / "a.npy").data, data)
    assert list_images(tmp_path) == [tmp_path / "a.npy"]
    check_template("{stem}.npy")
    assert plan_outputs([tmp_path / "a.npy"], tmp_path / "out", template="{stem}_x.npy")[0].destination.name == "a_x.npy"


def test_compound_suffixes_are_stripped_from_names(tmp_path):
    from img2img.inference.outputs import plan_outputs
    from img2img.io.names import image_stem

    assert [image_stem(n) for n in ("x.ome.tif", "x.ome.tiff", "x.OME.TIF", "x.ome.zarr", "a.b.tif", ".ome.tif")] == [
        "x", "x", "x", "x", "a.b", ".ome"]
    source = tmp_path / "x.ome.tif"
    write_image(source, np.zeros((8, 8), np.uint16))
    assert plan_outputs([source], tmp_path / "o", template="{stem}.ome.zarr")[0].destination.name == "x.ome.zarr"
    assert plan_outputs([source], tmp_path / "o")[0].destination.name == "x.ome.tif"  # OME-TIFF in, OME-TIFF out
    job = plan_outputs([source], tmp_path / "o", probabilities=True)[0]
    assert job.probabilities.name == "x_probabilities.ome.tif"


def test_tiff_results_are_imagej_hyperstacks_with_calibration_or_ome_tiff_when_imagej_cannot(tmp_path):
    import tifffile

    from img2img.io.metadata import Calibration

    calibration = Calibration(x=0.65, y=0.65, z=2.0, t=1.5, unit="micrometer", time_unit="second")
    stack = np.arange(2 * 3 * 8 * 10, dtype=np.uint16).reshape(2, 3, 8, 10)
    path = write_image(tmp_path / "a.tif", stack, axes="TZYX", resolution=calibration)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej and tif.series[0].axes == "TZYX"
        assert tif.imagej_metadata["spacing"] == 2.0 and tif.imagej_metadata["finterval"] == 1.5
        assert tif.imagej_metadata["unit"] == "micron"
    assert read_image(path).calibration == calibration
    labels = np.full((3, 8, 10), 70_000, np.uint32)  # ImageJ has no uint32
    path = write_image(tmp_path / "labels.tif", labels, axes="ZYX", resolution=calibration, kind="labels")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome and not tif.is_imagej
    back = read_image_raw(path)
    assert back.axes == "ZYX" and back.data.dtype == np.uint32 and back.calibration.z == 2.0
    channels_last = np.zeros((8, 10, 2), np.float32)  # ImageJ would reorder to CYX; OME-TIFF keeps YXC
    back = read_image(write_image(tmp_path / "yxc.tif", channels_last, axes="YXC", resolution=calibration))
    assert back.axes == "YXC" and back.data.shape == (8, 10, 2) and back.calibration.x == 0.65
    assert calibration.scaled(2) == Calibration(x=0.325, y=0.325, z=2.0, t=1.5, unit="micrometer", time_unit="second")
