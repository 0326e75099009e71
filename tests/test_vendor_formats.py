"""Vendor files through bioio (the optional `[formats]` extra) and files holding several images.

No CZI, ND2 or LIF sample ships with the reader packages, and only CZI can be written here (with
pylibCZIrw, Zeiss' library that bioio-czi installs), so: CZI is read from files we write; bioio's
multi-series path is tested on a two-image OME-TIFF (a format bioio reads as scenes); ND2 and LIF
are tested on their error paths (damaged file, missing reader)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tifffile

from img2img.cli import main
from img2img.errors import UserError
from img2img.io import vendor
from img2img.io.images import list_images, read_image
from img2img.io.lazy import LazyPixels

has_czi = pytest.mark.skipif(importlib.util.find_spec("bioio_czi") is None, reason="bioio-czi not installed")
has_bioio = pytest.mark.skipif(importlib.util.find_spec("bioio_ome_tiff") is None, reason="bioio-ome-tiff not installed")


def two_images(path: Path) -> Path:
    """An OME-TIFF with two images, as a multi-position acquisition exports them."""
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(np.full((3, 40, 50), 100, np.uint16), metadata={"axes": "ZYX", "Name": "position A",
                                                                  "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 2.0})
        tif.write(np.full((2, 64, 48), 200, np.uint16), metadata={"axes": "TYX", "Name": "position B",
                                                                  "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25,
                                                                  "TimeIncrement": 30.0, "TimeIncrementUnit": "s"})
    return path


def czi(path: Path, depth: int = 3) -> Path:
    from pylibCZIrw import czi as pyczi

    with pyczi.create_czi(str(path), exist_ok=True) as out:
        for z in range(depth):
            out.write(data=np.full((48, 40), 1000 + z, np.uint16), plane={"Z": z, "C": 0, "T": 0})
        out.write_metadata(document_name="t", channel_names={0: "DAPI"}, scale_x=0.4e-6, scale_y=0.4e-6, scale_z=1.5e-6)
    return path


def one_line(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_a_file_of_several_images_names_them_and_their_sizes_without_series(tmp_path):
    path = two_images(tmp_path / "multi.ome.tif")
    with pytest.raises(UserError) as error:
        read_image(path)
    message = str(error.value)
    assert "\n" not in message and "holds 2 images" in message and "--series" in message
    assert "0: position A 3x40x50 ZYX" in message and "1: position B 2x64x48 TYX" in message


def test_series_by_number_or_name_with_its_own_calibration(tmp_path):
    path = two_images(tmp_path / "multi.ome.tif")
    second = read_image(path, series=1)
    assert second.axes == "TYX" and second.data.shape == (2, 64, 48) and np.all(second.data == 200)
    assert second.calibration.x == 0.25 and second.calibration.t == 30.0 and second.calibration.time_unit == "second"
    first = read_image(path, series="position A")
    assert first.axes == "ZYX" and first.calibration.z == 2.0
    with pytest.raises(UserError, match=r"--series 5: no such series; it holds 2: 0 \(position A\), 1 \(position B\)"):
        read_image(path, series=5)


def test_infer_with_series_and_a_clear_line_without(translator, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    two_images(tmp_path / "in" / "multi.ome.tif")
    out = tmp_path / "out"
    args = ["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu"]
    assert main(args) == 1
    err = one_line(capsys)
    assert any("holds 2 images" in line and "choose one with --series" in line for line in err), err
    assert not out.exists() or not any(out.iterdir())  # nothing half-written
    assert main(args + ["--series", "1"]) == 0
    result = read_image(out / "multi.ome.tif")  # an OME-TIFF input gives an OME-TIFF result
    assert result.axes == "TYX" and result.calibration.t == 30.0


@has_czi
def test_czi_files_are_read_lazily_with_their_calibration_and_run_like_tiffs(translator, tmp_path):
    source = czi(tmp_path / "in" / "stack.czi")
    assert list_images(tmp_path / "in") == [source]
    image = read_image(source, lazy=True)
    assert isinstance(image.data, LazyPixels) and image.axes == "ZYX" and image.data.shape == (3, 48, 40)
    assert np.asarray(image.data[1]).min() == 1001
    assert (image.calibration.x, image.calibration.z, image.calibration.unit) == (0.4, 1.5, "micrometer")
    out = tmp_path / "out"
    assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu"]) == 0
    result = read_image(out / "stack.tif")
    assert result.axes == "ZYX" and result.calibration == image.calibration


@has_bioio
def test_bioio_scenes_need_a_series_and_keep_their_calibration(tmp_path):
    """bioio's own multi-scene path (`vendor.from_bioimage`), on a file bioio can read as scenes."""
    from bioio import BioImage

    path = two_images(tmp_path / "multi.ome.tif")
    with pytest.raises(UserError, match="holds 2 series .*0: Image:0 1x1x3x40x50 TCZYX; 1: Image:1 2x1x1x64x48 TCZYX"):
        vendor.from_bioimage(BioImage(path), path, lazy=True, series=None)
    image = vendor.from_bioimage(BioImage(path), path, lazy=True, series="Image:1")
    assert image.axes == "TYX" and image.data.shape == (2, 64, 48) and image.calibration.x == 0.25
    with pytest.raises(UserError, match="--series 7: no such series; it holds 2"):
        vendor.from_bioimage(BioImage(path), path, lazy=True, series=7)


@pytest.mark.parametrize("suffix", [".czi", ".nd2", ".lif"])
def test_a_damaged_vendor_file_is_one_line_and_nothing_is_written(translator, tmp_path, capsys, suffix):
    module = vendor.READERS[suffix][1]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / f"broken{suffix}").write_bytes(b"not really a microscope file" * 10)
    out = tmp_path / "out"
    assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu"]) == 1
    failed = [line for line in one_line(capsys) if line.startswith("failed:")]
    assert len(failed) == 1 and f"broken{suffix}: cannot read" in failed[0] and "is the file complete?" in failed[0]
    assert not any(out.iterdir())


@pytest.mark.parametrize("suffix, package", [(".czi", "bioio-czi"), (".nd2", "bioio-nd2"), (".lif", "bioio-lif")])
def test_a_missing_reader_names_the_extra_to_install(tmp_path, monkeypatch, suffix, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("bioio") else real(name, *a))
    path = tmp_path / f"a{suffix}"
    path.write_bytes(b"x")
    with pytest.raises(UserError) as error:
        read_image(path)
    message = str(error.value)
    assert "\n" not in message and package in message and "pip install 'img2img-microscopy[formats]'" in message
