"""Metadata in both directions: every supported input type (ImageJ TIFF, OME-TIFF, OME-Zarr from
ome-zarr-py, a CZI from Zeiss' own writer) is read, run through a model and written as ImageJ TIFF,
OME-TIFF and OME-Zarr, and the result is read back with tifffile, bioio and (OME-Zarr) ome-zarr-py
and ome-zarr-models: axes, shape, dtype and physical sizes (and the frame interval where the
reader reports one) must be the input's. The table in docs/usage.md is this matrix."""

import importlib.util
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from img2img.inference import Predictor
from img2img.io.images import read_image

needs = {name: pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{name} not installed")
         for name, module in [("bioio", "bioio"), ("ome-zarr", "ome_zarr"), ("ome-zarr-models", "ome_zarr_models"),
                              ("bioio-czi", "bioio_czi"), ("napari-ome-zarr", "napari_ome_zarr")]}

SIZES = {"X": 0.65, "Y": 0.65, "Z": 2.0}  # µm
INTERVAL = 1.5  # s


def stack(shape) -> np.ndarray:
    return (np.random.default_rng(0).random(shape) * 3000 + 100).astype(np.uint16)


def imagej_tiff(path: Path) -> Path:
    """As Fiji saves a hyperstack: ImageJ description with unit, spacing and frame interval."""
    tifffile.imwrite(path, stack((2, 3, 48, 40)), imagej=True, resolution=(1 / SIZES["X"], 1 / SIZES["Y"]),
                     metadata={"axes": "TZYX", "unit": "micron", "spacing": SIZES["Z"], "finterval": INTERVAL})
    return path


def ome_tiff(path: Path) -> Path:
    """OME-XML sizes, Z in nanometres (converted to X's µm, not lost), a time increment in seconds."""
    tifffile.imwrite(path, stack((2, 3, 48, 40)), ome=True, metadata={
        "axes": "TZYX", "PhysicalSizeX": SIZES["X"], "PhysicalSizeXUnit": "µm", "PhysicalSizeY": SIZES["Y"],
        "PhysicalSizeYUnit": "µm", "PhysicalSizeZ": SIZES["Z"] * 1000, "PhysicalSizeZUnit": "nm",
        "TimeIncrement": INTERVAL, "TimeIncrementUnit": "s"})
    return path


def ome_zarr_store(path: Path) -> Path:
    """Written by ome-zarr-py, the reference implementation (NGFF 0.4, with its own pyramid)."""
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image

    group = zarr.open_group(path, mode="w", zarr_format=2)
    write_image(stack((2, 3, 48, 40)), group, axes="tzyx", fmt=FormatV04(), scale_factors=(2,),
                scale={"t": INTERVAL, "z": SIZES["Z"], "y": SIZES["Y"], "x": SIZES["X"]},
                axes_units={"t": "second", "z": "micrometer", "y": "micrometer", "x": "micrometer"})
    return path


def czi(path: Path) -> Path:
    """A Zeiss CZI from pylibCZIrw (Zeiss' own library, installed with bioio-czi): Z, Y, X."""
    from pylibCZIrw import czi as pyczi

    data = stack((3, 48, 40))
    with pyczi.create_czi(str(path), exist_ok=True) as out:
        for z, plane in enumerate(data):
            out.write(data=plane, plane={"Z": z, "C": 0, "T": 0})
        out.write_metadata(document_name="rt", channel_names={0: "DAPI"},
                           scale_x=SIZES["X"] * 1e-6, scale_y=SIZES["Y"] * 1e-6, scale_z=SIZES["Z"] * 1e-6)
    return path


INPUTS = {  # name: (file name, maker, axes, sizes that survive, interval kept)
    "ImageJ TIFF": ("in.tif", imagej_tiff, "TZYX", True),
    "OME-TIFF": ("in.ome.tif", ome_tiff, "TZYX", True),
    "OME-Zarr": ("in.ome.zarr", lambda p: needs_module("ome_zarr") or ome_zarr_store(p), "TZYX", True),
    "CZI": ("in.czi", lambda p: needs_module("bioio_czi") or czi(p), "ZYX", False),
}
OUTPUTS = ("out.tif", "out.ome.tif", "out.ome.zarr")


def needs_module(module: str):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed")


@pytest.fixture(scope="module")
def predictor(translator):
    return Predictor.from_checkpoint(translator, device="cpu", tile=64, overlap=16, precision="32")


def tifffile_view(path: Path) -> dict:
    """What tifffile alone says: axes and sizes, dtype, pixel sizes (ImageJ or OME-XML), interval."""
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        view = {"axes": dict(zip(series.axes.replace("S", "C"), series.shape)), "dtype": series.dtype}
        if tif.is_ome:
            pixels = next(e for e in ElementTree.fromstring(tif.ome_metadata).iter() if e.tag.endswith("Pixels"))
            view["sizes"] = {a: float(pixels.get(f"PhysicalSize{a}")) for a in "XYZ" if pixels.get(f"PhysicalSize{a}")}
            view["units"] = {pixels.get(f"PhysicalSize{a}Unit", "µm") for a in view["sizes"]}
            view["interval"] = float(pixels.get("TimeIncrement")) if pixels.get("TimeIncrement") else None
        else:
            ij = tif.imagej_metadata
            assert tif.is_imagej and ij["unit"] == "micron"
            x, y = (tif.pages.first.tags[f"{a}Resolution"].value for a in "XY")
            view["sizes"] = {"X": x[1] / x[0], "Y": y[1] / y[0], **({"Z": ij["spacing"]} if "spacing" in ij else {})}
            view["units"] = {"micron"}
            view["interval"] = ij.get("finterval")
    return view


def bioio_view(path: Path) -> dict:
    from bioio import BioImage

    image = BioImage(path)
    dims = image.dims
    sizes = image.physical_pixel_sizes
    return {"axes": {d: getattr(dims, d) for d in dims.order if getattr(dims, d) > 1 or d in "YX"},
            "dtype": np.dtype(image.dtype), "sizes": {a: getattr(sizes, a) for a in "XYZ" if getattr(sizes, a)}}


def ome_zarr_view(path: Path) -> dict:
    """ome-zarr-py's reader, and ome-zarr-models' validation of the whole store."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader
    from ome_zarr_models.v04 import Image

    Image.from_zarr(zarr.open_group(path, mode="r"))  # raises on any schema violation
    node = next(iter(Reader(parse_url(str(path)))()))
    names = [a["name"].upper() for a in node.metadata["axes"]]
    scale = node.metadata["coordinateTransformations"][0][0]["scale"]
    units = {a["name"].upper(): a.get("unit") for a in node.metadata["axes"]}
    return {"axes": dict(zip(names, node.data[0].shape)), "dtype": np.dtype(node.data[0].dtype),
            "sizes": {a: s for a, s in zip(names, scale) if a in "XYZ"},
            "units": {units[a] for a in "XYZ" if a in units}, "interval": scale[names.index("T")] if "T" in names else None,
            "levels": len(node.data)}


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("kind", list(INPUTS))
def test_read_infer_write_read_keeps_axes_dtype_and_physical_sizes(predictor, tmp_path, kind, output):
    name, make, axes, interval_kept = INPUTS[kind]
    source = make(tmp_path / name)
    image = read_image(source)
    assert image.axes == axes and image.data.dtype == np.uint16
    assert {a: image.calibration.size(a) for a in "XYZ"} == SIZES and image.calibration.unit == "micrometer"
    assert image.calibration.t == (INTERVAL if axes.startswith("T") else None)
    written = predictor.predict_file(source, tmp_path / output)
    result = read_image(written)
    shape = dict(zip(image.axes, image.data.shape))
    assert dict(zip(result.axes, result.data.shape)) == shape and result.data.dtype == np.uint16
    assert result.calibration == image.calibration
    views = {}
    if output.endswith(".tif"):
        views["tifffile"] = tifffile_view(written)
    else:
        needs_module("ome_zarr")
        views["ome-zarr-py"] = ome_zarr_view(written)
        assert views["ome-zarr-py"]["units"] == {"micrometer"} and views["ome-zarr-py"]["levels"] == 1
    if importlib.util.find_spec("bioio") is not None:
        views["bioio"] = bioio_view(written)
    for reader, view in views.items():
        assert view["axes"] == shape, reader
        assert view["dtype"] == np.uint16, reader
        assert view["sizes"] == pytest.approx(SIZES, rel=1e-9), reader
        if "interval" in view and axes.startswith("T"):
            assert view["interval"] == pytest.approx(INTERVAL), reader


@needs["ome-zarr-models"]
def test_label_stores_validate_and_open_in_napari_as_labels(segmenter, tmp_path):
    from ome_zarr_models.v04 import ImageLabel

    source = imagej_tiff(tmp_path / "in.tif")
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", tile=64, overlap=16, precision="32")
    written = predictor.predict_file(source, tmp_path / "labels.ome.zarr")
    ImageLabel.from_zarr(zarr.open_group(written, mode="r"))
    assert read_image(written).calibration == read_image(source).calibration
    if importlib.util.find_spec("napari_ome_zarr") is not None:
        from napari_ome_zarr import napari_get_reader

        layers = napari_get_reader(str(written))(str(written))
        assert [layer[2] for layer in layers] == ["labels"]
        assert layers[0][1]["scale"] == pytest.approx([INTERVAL, SIZES["Z"], SIZES["Y"], SIZES["X"]])


@needs["ome-zarr-models"]
def test_large_results_get_a_pyramid_and_omero_windows(tmp_path):
    from ome_zarr_models.v04 import Image

    from img2img.io.images import write_image
    from img2img.io.metadata import Calibration

    data = stack((2, 1100, 600))  # CYX: two channels; Y and X above one 512 px chunk
    written = write_image(tmp_path / "big.ome.zarr", data, axes="CYX", resolution=Calibration(0.2, 0.2, unit="nm"))
    model = Image.from_zarr(zarr.open_group(written, mode="r"))
    datasets = model.attributes.multiscales[0].datasets
    assert [d.path for d in datasets] == ["0", "1", "2"]
    group = zarr.open_group(written, mode="r")
    assert [group[d.path].shape for d in datasets] == [(2, 1100, 600), (2, 550, 300), (2, 275, 150)]
    assert [d.coordinateTransformations[0].scale for d in datasets] == [[1, 0.2, 0.2], [1, 0.4, 0.4], [1, 0.8, 0.8]]
    np.testing.assert_array_equal(group["1"][0, :2, :2], np.rint(data[0, :4, :4].reshape(2, 2, 2, 2).mean(axis=(1, 3))))
    windows = [c["window"] for c in group.attrs["omero"]["channels"]]
    assert [(w["min"], w["max"]) for w in windows] == [(float(c.min()), float(c.max())) for c in data]
    assert read_image(written).calibration == Calibration(0.2, 0.2, unit="nanometer")
    if importlib.util.find_spec("napari_ome_zarr") is not None:
        from napari_ome_zarr import napari_get_reader

        layers = napari_get_reader(str(written))(str(written))
        assert [layer[2] for layer in layers] == ["image"] and len(layers[0][0]) == 3
