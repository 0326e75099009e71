"""OME-Zarr in and out: NGFF metadata both ways (our v0.4 writer, a hand-made v0.5 store), clear
errors, lazy reads that touch only the chunks asked for, `img2img infer` from and to .ome.zarr
giving exactly the TIFF results, streamed band-by-band writes, atomic stores, resume and
folder listing."""

import json
import re
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from img2img.cli import main
from img2img.errors import UserError
from img2img.io.atomic import temporary_name
from img2img.inference import Predictor
from img2img.inference.outputs import find_inputs, plan_outputs
from img2img.io import normalization, ome_zarr
from img2img.io.axes import to_planes
from img2img.io.images import list_images, read_image, write_image
from img2img.io.lazy import LazyPixels
from img2img.io.metadata import Calibration
from tests.model_builders import save_checkpoint, untrained

MICRONS_065 = Calibration(0.65, 0.65, unit="micrometer")  # 0.65 µm pixels


@pytest.fixture(scope="module")
def two_out(tmp_path_factory) -> Path:
    """1 -> 2 channel image model: its results have a C axis, which NGFF stores before Z."""
    return save_checkpoint(untrained(task="translation", out_channels=2), tmp_path_factory.mktemp("ckpt") / "t2.ckpt")


def pixels(shape, dtype=np.uint16, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) * 60000).astype(dtype)


def infer(*args) -> int:
    return main(["infer", *map(str, args), "--device", "cpu", "--tile", "64", "--overlap", "16"])


def multiscale(path: Path) -> dict:
    return json.loads((path / ".zattrs").read_text())["multiscales"][0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- reading and writing --------------------------------------------------------------------
def test_our_writer_round_trips_axes_dtype_and_pixel_size(tmp_path):
    data = pixels((3, 2, 40, 50))  # ZCYX
    path = write_image(tmp_path / "cells.ome.zarr", data, axes="ZCYX", resolution=MICRONS_065)
    meta = multiscale(path)
    assert meta["version"] == "0.4"
    assert [(a["name"], a["type"], a.get("unit")) for a in meta["axes"]] == [
        ("c", "channel", None), ("z", "space", None), ("y", "space", "micrometer"), ("x", "space", "micrometer")]
    assert meta["datasets"] == [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": pytest.approx([1, 1, 0.65, 0.65])}]}]
    zarray = json.loads((path / "0" / ".zarray").read_text())  # zarr v2, nested chunk keys, compressed
    assert zarray["zarr_format"] == 2 and zarray["dimension_separator"] == "/" and zarray["compressor"]["cname"] == "zstd"
    assert zarray["chunks"] == [1, 1, 40, 50]

    image = read_image(path)
    assert image.axes == "CZYX" and image.data.dtype == np.uint16
    np.testing.assert_array_equal(image.data, np.moveaxis(data, 1, 0))
    assert image.resolution == MICRONS_065


def test_a_hand_made_v05_store_is_read_at_full_resolution(tmp_path):
    """zarr v3, metadata under attributes['ome'], two levels (s0 is read), nanometre scale, float64."""
    path = tmp_path / "made.ome.zarr"
    full = np.random.default_rng(1).random((2, 3, 60, 80))  # TCYX float64
    group = zarr.open_group(path, mode="w", zarr_format=3)
    group.create_array("s0", shape=full.shape, chunks=(1, 1, 32, 32), dtype="float64")[...] = full
    group.create_array("s1", shape=(2, 3, 30, 40), chunks=(1, 1, 32, 32), dtype="float64")[...] = full[..., ::2, ::2]
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "nanometer"}, {"name": "x", "type": "space", "unit": "nanometer"}]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": [
        {"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 500.0, 250.0]}]},
        {"path": "s1", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1000.0, 500.0]}]},
    ]}]}
    image = read_image(path, lazy=True)
    assert isinstance(image.data, LazyPixels)
    assert image.axes == "TCYX" and image.data.shape == full.shape and image.data.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(image.data), full.astype(np.float32))
    assert image.resolution == Calibration(x=250, y=500, unit="nanometer")
    np.testing.assert_array_equal(read_image(path).data, full.astype(np.float32))


def plain_group(path: Path, attrs: dict | None = None, dtype="uint16", shape=(20, 30)) -> Path:
    group = zarr.open_group(path, mode="w", zarr_format=2)
    group.create_array("0", shape=shape, dtype=dtype)
    if attrs:
        group.attrs.update(attrs)
    return path


def ngff(*names, path="0") -> dict:
    return {"multiscales": [{"version": "0.4", "axes": [{"name": n} for n in names], "datasets": [{"path": path}]}]}


@pytest.mark.parametrize("make, message", [
    (lambda p: plain_group(p), "not an OME-NGFF image (no 'multiscales' metadata)"),
    (lambda p: zarr.create_array(p, shape=(4, 4), dtype="uint8", zarr_format=2) and p, "not an OME-NGFF image"),
    (lambda p: plain_group(p, ngff("z", "x"), shape=(2, 30)), "have no y and x"),
    (lambda p: plain_group(p, ngff("y", "x"), dtype="int32"), "pixel type int32 is not supported"),
    (lambda p: plain_group(p, ngff("q", "x")), "axis 'q' is not one of t, c, z, y, x"),
    (lambda p: plain_group(p, ngff("y", "x", path="missing")), "damaged OME-NGFF metadata"),
    (lambda p: p, "no such OME-Zarr folder"),
])
def test_stores_we_cannot_read_give_one_line_naming_them(tmp_path, make, message):
    path = make(tmp_path / "bad.zarr")
    with pytest.raises(UserError, match=re.escape(message)) as error:
        read_image(path, lazy=True)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_a_lazy_read_touches_only_the_chunks_asked_for(tmp_path, monkeypatch):
    data = pixels((256, 256))
    group = zarr.open_group(tmp_path / "big.ome.zarr", mode="w", zarr_format=2)
    group.create_array("0", shape=data.shape, chunks=(64, 64), dtype=data.dtype,
                       chunk_key_encoding={"name": "v2", "separator": "/"})[...] = data
    group.attrs.update(ngff("y", "x"))
    keys = []
    get = zarr.storage.LocalStore.get

    async def recording_get(self, key, *args, **kwargs):
        keys.append(key)
        return await get(self, key, *args, **kwargs)

    monkeypatch.setattr(zarr.storage.LocalStore, "get", recording_get)
    image = read_image(tmp_path / "big.ome.zarr", lazy=True)
    planes, _ = to_planes(image.data, image.axes)
    keys.clear()
    tile = planes[0][:, 70:120, 130:190]
    np.testing.assert_array_equal(tile[0], data[70:120, 130:190])
    chunks = sorted(k for k in keys if not os.path.basename(k).startswith("."))
    assert chunks == ["0/1/2"], chunks  # rows 70:120 lie in chunk row 1, columns 130:190 in chunk column 2


def test_prediction_on_a_lazy_store_reads_tiles_and_a_subsample_never_the_plane(translator, tmp_path, monkeypatch):
    """Every read is at most a tile (or the strided percentile sample); the result is the in-memory one."""
    monkeypatch.setattr(normalization, "_MAX_SAMPLES", 256)  # a 256 px plane is then sampled every 16 px
    data = pixels((256, 256))
    path = write_image(tmp_path / "big.ome.zarr", data, axes="YX")
    image = read_image(path, lazy=True)
    sizes = []
    read = LazyPixels.__getitem__

    def recording(self, key):
        block = read(self, key)
        sizes.append(block.size)
        return block

    monkeypatch.setattr(LazyPixels, "__getitem__", recording)
    predictor = Predictor.from_checkpoint(translator, device="cpu", tile=64, overlap=16, precision="32")
    result = predictor.predict(image.data, image.axes)
    assert sizes and max(sizes) <= 64 * 64 < data.size
    np.testing.assert_array_equal(result, predictor.predict(data, "YX"))


# --- img2img infer -----------------------------------------------------------------------------
def test_infer_on_ome_zarr_inputs_equals_infer_on_the_same_tiffs(translator, tmp_path):
    stack = pixels((3, 70, 90))
    write_image(tmp_path / "tif" / "cells.tif", stack, axes="ZYX", resolution=MICRONS_065)
    write_image(tmp_path / "zarr" / "cells.ome.zarr", stack, axes="ZYX", resolution=MICRONS_065)
    assert infer(tmp_path / "tif", "--model", translator, "--output", tmp_path / "a") == 0
    assert infer(tmp_path / "zarr", "--model", translator, "--output", tmp_path / "b") == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["cells.tif"]  # {stem} drops .ome.zarr
    a, b = read_image(tmp_path / "a" / "cells.tif"), read_image(tmp_path / "b" / "cells.tif")
    assert b.axes == "ZYX" and b.data.dtype == np.uint16
    np.testing.assert_array_equal(b.data, a.data)
    assert b.resolution.x == pytest.approx(MICRONS_065.x)


def test_a_czyx_store_with_a_picked_channel_equals_the_tiff(translator, tmp_path):
    stack = pixels((2, 3, 50, 60))  # CZYX
    write_image(tmp_path / "tif" / "s.tif", stack, axes="CZYX")
    write_image(tmp_path / "zarr" / "s.ome.zarr", stack, axes="CZYX")
    for folder, out in (("tif", "a"), ("zarr", "b")):
        assert infer(tmp_path / folder, "--model", translator, "--output", tmp_path / out, "--channels", "1") == 0
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "b" / "s.tif"), tifffile.imread(tmp_path / "a" / "s.tif"))


@pytest.mark.parametrize("model, extra", [("translator", []), ("translator", ["--output-dtype", "float32"]),
                                          ("two_out", []), ("segmenter", [])])
def test_ome_zarr_results_equal_the_tiff_results_with_valid_metadata(request, tmp_path, model, extra):
    checkpoint = request.getfixturevalue(model)
    write_image(tmp_path / "in" / "stack.tif", pixels((2, 70, 90)), axes="ZYX", resolution=MICRONS_065)
    write_image(tmp_path / "in" / "flat.tif", pixels((80, 64), seed=1), axes="YX")
    args = [tmp_path / "in", "--model", checkpoint, *extra]
    assert infer(*args, "--output", tmp_path / "tif") == 0
    assert infer(*args, "--output", tmp_path / "zarr", "--name", "{stem}.ome.zarr") == 0
    assert sorted(p.name for p in (tmp_path / "zarr").iterdir()) == ["flat.ome.zarr", "stack.ome.zarr"]
    for stem in ("stack", "flat"):
        tif, zarr_result = read_image(tmp_path / "tif" / f"{stem}.tif"), read_image(tmp_path / "zarr" / f"{stem}.ome.zarr")
        assert zarr_result.axes == "".join(a for a in "TCZYX" if a in tif.axes)  # NGFF order
        expected = np.transpose(tif.data, [tif.axes.index(a) for a in zarr_result.axes])
        assert zarr_result.data.dtype == tif.data.dtype
        np.testing.assert_array_equal(zarr_result.data, expected)
        meta = multiscale(tmp_path / "zarr" / f"{stem}.ome.zarr")
        assert [a["name"] for a in meta["axes"]] == list(zarr_result.axes.lower())
        assert len(meta["datasets"][0]["coordinateTransformations"][0]["scale"]) == zarr_result.data.ndim
        assert (meta["axes"][-1].get("unit") == "micrometer") == (stem == "stack")
    assert leftovers(tmp_path / "zarr") == []


def test_probability_maps_go_to_a_store_beside_the_labels(segmenter, tmp_path):
    write_image(tmp_path / "in" / "img.tif", pixels((70, 90)), axes="YX")
    args = [tmp_path / "in", "--model", segmenter, "--probabilities"]
    assert infer(*args, "--output", tmp_path / "tif") == 0
    assert infer(*args, "--output", tmp_path / "zarr", "--name", "{stem}.ome.zarr") == 0
    probabilities = read_image(tmp_path / "zarr" / "img_probabilities.ome.zarr")
    assert probabilities.axes == "CYX" and probabilities.data.dtype == np.float32
    np.testing.assert_array_equal(probabilities.data, tifffile.imread(tmp_path / "tif" / "img_probabilities.tif"))
    np.testing.assert_array_equal(read_image(tmp_path / "zarr" / "img.ome.zarr").data, tifffile.imread(tmp_path / "tif" / "img.tif"))


def test_super_resolution_results_have_a_finer_pixel_size(tmp_path):
    from tests.test_superres import untrained_sr

    source = write_image(tmp_path / "small.tif", pixels((40, 48)), axes="YX", resolution=MICRONS_065)
    predictor = Predictor(untrained_sr(2), device="cpu", tile=32, overlap=8, precision="32")
    written = predictor.predict_file(source, tmp_path / "out" / "big.ome.zarr")
    result = read_image(written)
    assert result.data.shape == (80, 96)
    assert multiscale(written)["datasets"][0]["coordinateTransformations"][0]["scale"] == pytest.approx([0.325, 0.325])
    np.testing.assert_array_equal(result.data, predictor.predict(tifffile.imread(source)))


def test_results_are_streamed_band_by_band(translator, tmp_path, monkeypatch):
    """The whole result is never assigned at once: each write is a band of rows of one plane."""
    source = write_image(tmp_path / "tall.tif", pixels((2, 256, 80)), axes="ZYX")
    writes = []
    setitem = zarr.Array.__setitem__

    def recording(self, key, value):
        writes.append(np.shape(value))
        return setitem(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", recording)
    predictor = Predictor.from_checkpoint(translator, device="cpu", tile=64, overlap=16, precision="32")
    written = predictor.predict_file(source, tmp_path / "out" / "tall.ome.zarr")
    assert len(writes) > 2 * 2 and all(len(shape) == 2 and shape[0] < 256 for shape in writes), writes
    np.testing.assert_array_equal(read_image(written).data, predictor.predict(tifffile.imread(source), "ZYX"))


def test_a_failure_part_way_leaves_neither_a_store_nor_a_temporary(translator, tmp_path, monkeypatch, capsys):
    write_image(tmp_path / "in" / "img.tif", pixels((2, 128, 128)), axes="ZYX")
    out = tmp_path / "out"
    per_plane = Predictor.from_checkpoint(translator, device="cpu", tile=64, overlap=16).count_tiles((128, 128), "YX")
    seen = []
    run_batch = Predictor._run_batch

    def failing(self, tiles):
        seen.append(sorted(p.name for p in out.iterdir()))
        if len(seen) == per_plane + 1:  # the first plane is written, the second started
            raise RuntimeError("device lost")
        return run_batch(self, tiles)

    monkeypatch.setattr(Predictor, "_run_batch", failing)
    assert infer(tmp_path / "in", "--model", translator, "--output", out, "--name", "{stem}.ome.zarr") == 1
    assert "img.tif: RuntimeError: device lost" in capsys.readouterr().err
    assert seen[0] == [temporary_name(out / "img.ome.zarr").name]  # written under a hidden name meanwhile
    assert list(out.iterdir()) == []


def test_skip_existing_keeps_finished_stores_and_removes_stale_temporaries(translator, tmp_path, capsys):
    for i in range(3):
        write_image(tmp_path / "in" / f"img_{i}.tif", pixels((70, 90), seed=i), axes="YX")
    out = tmp_path / "out"
    finished = write_image(out / "img_0.ome.zarr", np.full((70, 90), 7, np.uint16), axes="YX")
    stale = out / ".img_1.ome.tmp-999999999.zarr"  # what a killed run (a pid no process has) leaves
    (stale / "0").mkdir(parents=True)
    (stale / "0" / "0.0").write_bytes(b"half a chunk")
    args = [tmp_path / "in", "--model", translator, "--output", out, "--name", "{stem}.ome.zarr"]
    assert infer(*args, "--skip-existing") == 0
    assert "skipped 1 finished" in capsys.readouterr().out
    assert np.all(read_image(finished).data == 7)
    assert sorted(p.name for p in out.iterdir()) == ["img_0.ome.zarr", "img_1.ome.zarr", "img_2.ome.zarr"]
    assert infer(*args) == 0  # without --skip-existing a finished store is replaced whole
    assert not np.all(read_image(finished).data == 7) and leftovers(out) == []


def test_a_zarr_that_is_not_an_image_is_reported_and_the_rest_written(segmenter, tmp_path, capsys):
    for i in range(2):
        write_image(tmp_path / "in" / f"img_{i}.tif", pixels((70, 90), seed=i), axes="YX")
    plain_group(tmp_path / "in" / "plain.zarr")
    assert infer(tmp_path / "in", "--model", segmenter, "--output", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'in' / 'plain.zarr'}: a zarr store but not an OME-NGFF image" in err
    assert "1 of 3 file(s) failed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_0.tif", "img_1.tif"]


def test_folders_list_stores_as_images_and_recursion_stays_out_of_them(tmp_path):
    top = tmp_path / "in"
    write_image(top / "a.ome.zarr", pixels((20, 30)), axes="YX")
    write_image(top / "a.ome.zarr" / "inside.tif", pixels((20, 30)), axes="YX")  # not an input of its own
    write_image(top / "sub" / "b.ome.zarr", pixels((20, 30)), axes="YX")
    write_image(top / "sub" / "c.tif", pixels((20, 30)), axes="YX")
    (top / ".hidden.tmp-1.zarr").mkdir()
    assert [p.name for p in list_images(top)] == ["a.ome.zarr"]
    found = find_inputs([top], recursive=True)
    assert [(f.relative_to(top).as_posix(), sub.as_posix()) for f, sub in found] == [
        ("a.ome.zarr", "."), ("sub/b.ome.zarr", "sub"), ("sub/c.tif", "sub")]
    assert find_inputs([top / "a.ome.zarr"]) == [(top / "a.ome.zarr", Path())]
    jobs = plan_outputs(found, tmp_path / "out", probabilities=True, template="{stem}.ome.zarr")
    assert [j.destination.name for j in jobs] == ["a.ome.zarr", "b.ome.zarr", "c.ome.zarr"]
    assert jobs[0].probabilities.name == "a_probabilities.ome.zarr"
    with pytest.raises(UserError, match="this input would be overwritten"):
        plan_outputs([top / "a.ome.zarr"], top, template="{stem}.ome.zarr")
    with pytest.raises(UserError, match="beside c.tif under its own name"):
        plan_outputs([top / "sub" / "c.tif"], top / "sub", template="{stem}.ome.zarr")
    with pytest.raises(UserError, match=r"\.ome\.zarr"):
        plan_outputs([top / "sub" / "c.tif"], tmp_path / "out", template="{stem}.n5")


def test_ome_zarr_cannot_hold_axes_outside_tczyx(tmp_path):
    with pytest.raises(UserError, match="holds the axes t, c, z, y, x"):
        with ome_zarr.create(tmp_path / "x.ome.zarr", (2, 3, 4, 5), np.uint8, "RZYX"):
            pass
    assert list(tmp_path.iterdir()) == []
