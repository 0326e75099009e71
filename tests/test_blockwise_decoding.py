"""Large planes are decoded in blocks (segmentation/blockwise.py) from maps made band by band
(segmentation/resize_rows.py): the objects must be those of a whole-plane decode, none cut or
doubled at block borders, with uint32 labels when there are more than 65,535 of them."""

from contextlib import nullcontext

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from img2img.builtin import builtin_model_path
from img2img.config.schema import DecodingConfig
from img2img.data.synthetic import render_cells
from img2img.errors import UserError
from img2img.inference import Predictor
from img2img.inference.large_maps import MapsWriter
from img2img.io.images import read_image, read_image_raw
from img2img.segmentation import blockwise
from img2img.segmentation.blockwise import BlockDecoder, smoothing_margin
from img2img.segmentation.encoding import decode_rescaled, labels_to_target
from img2img.segmentation.object_size import resize_planes, scaled_shape
from img2img.segmentation.resize_rows import ResizedPlane, resize_bands
from tests.model_builders import untrained

BUILTIN_DECODING = DecodingConfig(foreground_threshold=0.6, seed_threshold=0.5, min_size=64, smoothing=2.5)


def realistic_maps(seed: int, size: tuple[int, int]) -> np.ndarray:
    """Maps as a network makes them: the target of synthetic nuclei (clustered, touching), blurred
    and noisy."""
    rng = np.random.default_rng(seed)
    _, labels = render_cells(rng, size)
    maps = ndimage.gaussian_filter(labels_to_target(labels), (0, 1.2, 1.2)) + rng.normal(0, 0.05, (2,) + size)
    return np.clip(maps, 0, 1).astype(np.float32)


def unmatched(a: np.ndarray, b: np.ndarray) -> int:
    """Objects of `a` or `b` that are not exactly one object of the other (same pixels)."""
    both = (a > 0) | (b > 0)
    pairs = np.unique(np.stack([a[both].astype(np.int64), b[both].astype(np.int64)]), axis=1)
    in_a, in_b = np.bincount(pairs[0]), np.bincount(pairs[1])
    bad = (in_a[pairs[0]] > 1) | (in_b[pairs[1]] > 1) | (pairs[0] == 0) | (pairs[1] == 0)
    return len(set(pairs[0][bad]) - {0}) + len(set(pairs[1][bad]) - {0})


def in_bands(decoder: BlockDecoder, maps: np.ndarray, seed: int = 0) -> np.ndarray:
    """Feed `maps` in bands of random heights, as blending yields them."""
    rng, row = np.random.default_rng(seed), 0
    while row < maps.shape[1]:
        n = int(rng.integers(1, 90))
        decoder.add(row, maps[:, row : row + n])
        row += n
    return decoder.finish()


def block_decoder(shape, decoding, rows, diameter=24.0, scale=1.0) -> BlockDecoder:
    return BlockDecoder(shape, lambda m: decode_rescaled(m, decoding, scale), smoothing_margin(decoding.smoothing / scale),
                        diameter=diameter, rows=rows)


# --- block decoding ------------------------------------------------------------------------
@pytest.mark.parametrize("decoding", [DecodingConfig(), BUILTIN_DECODING], ids=["defaults", "builtin"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_find_the_objects_of_a_whole_plane_decode(decoding, seed):
    maps = realistic_maps(seed, (700, 500))
    whole = decode_rescaled(maps, decoding)
    rows = 64
    labels = in_bands(block_decoder(maps.shape[1:], decoding, rows), maps, seed)
    assert unmatched(whole, labels) == 0
    assert labels.dtype == np.uint16 and labels.max() == whole.max()
    assert np.array_equal(np.unique(labels), np.arange(labels.max() + 1))  # numbered 1..N
    # Many objects straddle a border between block cores: each is still one object.
    borders = np.arange(rows, maps.shape[1], rows)
    straddling = {i for b in borders for i in np.intersect1d(labels[b - 1], labels[b]) if i}
    assert len(straddling) > 20


def test_even_without_a_halo_the_smoothing_margin_keeps_objects_whole():
    maps = realistic_maps(3, (600, 400))
    labels = in_bands(block_decoder(maps.shape[1:], BUILTIN_DECODING, 32, diameter=0.01), maps)
    assert unmatched(decode_rescaled(maps, BUILTIN_DECODING), labels) == 0


def test_an_object_taller_than_a_window_grows_the_window_and_stays_whole():
    maps = np.zeros((2, 500, 60), np.float32)
    maps[:, 20:460, 20:40] = 1.0  # one tall bar: 440 rows, the halo is about 60
    maps[:, 100:110, 50:58] = 1.0
    decoding = DecodingConfig(min_size=1, smoothing=0.0)
    labels = in_bands(block_decoder(maps.shape[1:], decoding, rows=32, diameter=10), maps)
    assert unmatched(decode_rescaled(maps, decoding), labels) == 0 and labels.max() == 2


def test_a_restart_from_row_zero_starts_over():
    """Tiling re-yields a plane from the top after running out of GPU memory."""
    maps = realistic_maps(4, (300, 200))
    decoder = block_decoder(maps.shape[1:], BUILTIN_DECODING, rows=32)
    decoder.add(0, maps[:, :150])
    labels = in_bands(decoder, maps)
    assert unmatched(decode_rescaled(maps, BUILTIN_DECODING), labels) == 0


def test_the_band_resizer_and_the_maps_writer_also_start_over(tmp_path):
    maps = realistic_maps(5, (300, 260))
    bands = [(y, maps[:, y : y + 40]) for y in range(0, 300, 40)]
    again = bands[:3] + bands  # rows 0..119, then the whole plane from row 0
    resized = list(resize_bands(iter(again), (300, 260), (200, 173)))
    restart = max(i for i, (row, _) in enumerate(resized) if row == 0)
    np.testing.assert_array_equal(np.concatenate([b for _, b in resized[restart:]], axis=1), resize_planes(maps, (200, 173)))
    with MapsWriter(tmp_path / "maps.tif", maps.shape, "CYX") as writer:
        for row, band in again:
            writer.sink(0)(row, band)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "maps.tif"), maps)


# --- more than 65,535 objects ------------------------------------------------------------------
def grid_of_objects(per_side: int) -> np.ndarray:
    """2x2 px objects 3 px apart: per_side**2 of them."""
    maps = np.zeros((2, 3 * per_side, 3 * per_side), np.float32)
    for dy in (0, 1):
        for dx in (0, 1):
            maps[:, dy::3, dx::3] = 1.0
    return maps


def test_more_than_65535_objects_make_uint32_labels():
    maps = grid_of_objects(257)  # 66,049 objects
    decoding = DecodingConfig(min_size=1, smoothing=0.0)
    whole = decode_rescaled(maps, decoding)
    assert whole.dtype == np.uint32 and whole.max() == 257**2
    labels = in_bands(block_decoder(maps.shape[1:], decoding, rows=96, diameter=3), maps)
    assert labels.dtype == np.uint32 and labels.max() == 257**2
    assert unmatched(whole, labels) == 0
    few = decode_rescaled(grid_of_objects(20), decoding)
    assert few.dtype == np.uint16 and few.max() == 400


@pytest.mark.parametrize("name", ["many.tif", "many.ome.zarr"])
def test_labels_of_more_than_65535_objects_are_written_as_uint32(tmp_path, monkeypatch, name):
    many = np.arange(1, 70_001, dtype=np.uint32).reshape(175, 400)
    few = np.ones((175, 400), np.uint16)
    predictor = Predictor(untrained(), device="cpu", precision="32")
    source = tmp_path / "stack.tif"
    # Frames of a time series are labelled one by one (a Z stack's ids would run through it).
    tifffile.imwrite(source, np.zeros((2, 175, 400), np.uint16), metadata={"axes": "TYX"})
    planes = iter([many, few])
    monkeypatch.setattr(predictor, "_segment", lambda plane, maps_into=None: next(planes))
    written = read_image_raw(predictor.predict_file(source, tmp_path / "out" / name))
    assert written.data.dtype == np.uint32 and written.axes == "TYX"
    np.testing.assert_array_equal(written.data, np.stack([many, few]))
    planes = iter([few, many])  # a store made for the uint16 first plane cannot take the second
    with pytest.raises(UserError, match="70000 objects do not fit in this uint16") if "zarr" in name else nullcontext():
        predictor.predict_file(source, tmp_path / "again" / name)


# --- the Predictor on planes decoded in blocks ------------------------------------------------
@pytest.fixture
def small_blocks(monkeypatch):
    """Planes above 200 x 200 px are decoded in blocks of about 64 rows."""
    monkeypatch.setattr(blockwise, "WHOLE_PLANE_PIXELS", 200 * 200)
    monkeypatch.setattr(blockwise, "BLOCK_PIXELS", 64 * 300)


@pytest.fixture(scope="module")
def nuclei():
    image, _ = render_cells(np.random.default_rng(7), (288, 320))
    return image


@pytest.mark.parametrize("diameter", [24, 16, 36])  # scale 1, 1.5 (maps shrunk back) and 0.67 (enlarged back)
def test_the_predictor_decodes_large_planes_in_blocks_like_whole_planes(nuclei, monkeypatch, diameter):
    predictor = Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32",
                                          diameter=diameter, tile=128, overlap=32)
    plane = predictor._planes(nuclei, "YX")[0][0]
    maps, scale = predictor._maps(plane)
    whole = decode_rescaled(maps, predictor.config.segmentation.decoding, scale)
    assert scale == pytest.approx(24 / diameter) and whole.max() > 30
    monkeypatch.setattr(blockwise, "WHOLE_PLANE_PIXELS", 200 * 200)
    monkeypatch.setattr(blockwise, "BLOCK_PIXELS", 64 * 320)
    banded = predictor.predict_probabilities(nuclei, "YX")
    np.testing.assert_allclose(banded, maps, atol=1e-5)  # OpenCV's resize, to float rounding
    assert np.array_equal(banded, maps) or diameter != 24  # unscaled: the same numbers
    labels = predictor.predict(nuclei, "YX")
    assert labels.dtype == np.uint16 and unmatched(whole, labels) == 0


def test_maps_of_large_planes_are_written_band_by_band_as_float32(nuclei, tmp_path, small_blocks):
    predictor = Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32",
                                          diameter=24, tile=128, overlap=32)
    source = tmp_path / "cells.tif"
    tifffile.imwrite(source, nuclei, resolution=(20000, 20000), resolutionunit="CENTIMETER")
    expected = predictor.predict_probabilities(nuclei, "YX")
    for name in ("cells.tif", "cells.ome.zarr"):
        destination = tmp_path / "out" / name
        probabilities = destination.with_name("cells_probabilities" + name[len("cells"):])
        predictor.predict_file(source, destination, probabilities)
        written = read_image(probabilities)
        assert written.axes == "CYX" and written.data.dtype == np.float32
        np.testing.assert_array_equal(written.data, expected)
        assert written.resolution is not None and written.resolution.x == pytest.approx(0.5)  # 20,000 px per cm
        np.testing.assert_array_equal(read_image(destination).data, predictor.predict(nuclei, "YX"))
    with tifffile.TiffFile(tmp_path / "out" / "cells_probabilities.tif") as tif:  # as write_image makes it
        assert tif.pages[0].tile == (256, 256) and tif.pages[0].compression == 8 and len(tif.pages) == 2


def test_a_failure_part_way_leaves_no_maps_file(nuclei, tmp_path, small_blocks, monkeypatch):
    predictor = Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32",
                                          diameter=24, tile=128, overlap=32)
    source = tmp_path / "cells.tif"
    tifffile.imwrite(source, nuclei)
    monkeypatch.setattr(BlockDecoder, "finish", lambda self: (_ for _ in ()).throw(RuntimeError("lost")))
    for name in ("cells.tif", "cells.ome.zarr"):
        out = tmp_path / name.replace(".", "_")
        with pytest.raises(RuntimeError, match="lost"):
            predictor.predict_file(source, out / name, out / ("p" + name))
        assert not out.exists() or list(out.iterdir()) == []


# --- resizing a few rows at a time ---------------------------------------------------------------
@pytest.mark.parametrize("shape, scale", [((300, 410), 1.5), ((301, 409), 0.37), ((300, 410), 0.5), ((257, 311), 3.3)])
def test_resizing_by_rows_matches_resizing_whole_planes(shape, scale):
    plane = np.random.default_rng(0).random((2,) + shape).astype(np.float32)
    size = scaled_shape(shape, scale)
    whole = resize_planes(plane, size)
    lazy = ResizedPlane(plane, size)
    by_rows = np.concatenate([lazy[:, y : y + 37] for y in range(0, size[0], 37)], axis=1)
    np.testing.assert_allclose(by_rows, whole, atol=3e-7)
    np.testing.assert_allclose(lazy[:, ::7, ::5], whole[:, ::7, ::5], atol=3e-7)
    np.testing.assert_allclose(lazy[:, 10:50, 20:90], whole[:, 10:50, 20:90], atol=3e-7)
    back = list(resize_bands(((y, whole[:, y : y + 29]) for y in range(0, size[0], 29)), size, shape))
    assert [row for row, _ in back] == sorted({row for row, _ in back}) and back[0][0] == 0
    np.testing.assert_allclose(np.concatenate([b for _, b in back], axis=1), resize_planes(whole, shape), atol=3e-7)


def test_a_gray_plane_seen_as_three_channels_is_resized_once():
    gray = np.random.default_rng(1).integers(0, 60000, (1, 120, 90)).astype(np.uint16)
    plane = np.broadcast_to(gray, (3, 120, 90))
    lazy = ResizedPlane(plane, (180, 135))
    np.testing.assert_allclose(lazy[:, :60], resize_planes(np.asarray(plane), (180, 135))[:, :60], rtol=1e-6)
    assert lazy[:, :60].strides[0] == 0
