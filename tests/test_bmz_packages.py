"""Running BioImage.IO packages: ours (from `img2img export`) exactly as their checkpoint, others
with their own pre- and post-processing through bioimageio.core; bad packages are one line."""

import zipfile

import numpy as np
import pytest
import tifffile

from img2img.cli import main
from img2img.export import export_model
from tests.bmz_foreign import foreign_forward, write_foreign_package, write_foreign_package_v04
from tests.model_builders import save_checkpoint, untrained_kind

pytest.importorskip("bioimageio.core", reason="the [export] extra is not installed")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bmz_images")
    rng = np.random.default_rng(7)
    tifffile.imwrite(folder / "valid.tif", (rng.random((64, 96)) * 3000).astype(np.uint16))  # a size packages accept
    tifffile.imwrite(folder / "odd.tif", (rng.random((50, 70)) * 3000).astype(np.uint16))
    return folder


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    return write_foreign_package(tmp_path_factory.mktemp("foreign") / "smooth")


@pytest.mark.parametrize("kind,layout", [("segmentation", "zip"), ("translation", "folder")])
def test_our_packages_run_exactly_as_their_checkpoint(kind, layout, images, tmp_path):
    checkpoint = save_checkpoint(untrained_kind(kind), tmp_path / "model.ckpt")
    package = export_model(checkpoint, tmp_path / ("model.zip" if layout == "zip" else "model_pkg")).path
    for model, out in ((checkpoint, "from_ckpt"), (package, "from_package")):
        assert main(["infer", str(images), "--model", str(model), "--output", str(tmp_path / out), "--device", "cpu"]) == 0
    for name in ("valid.tif", "odd.tif"):
        a, b = tifffile.imread(tmp_path / "from_ckpt" / name), tifffile.imread(tmp_path / "from_package" / name)
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert main(["info", str(package)]) == 0


def test_a_foreign_package_runs_with_its_own_processing(foreign, images, tmp_path, capsys):
    assert main(["infer", str(images), "--model", str(foreign), "--output", str(tmp_path / "out")]) == 0
    for name in ("valid.tif", "odd.tif"):
        result = tifffile.imread(tmp_path / "out" / name)
        expected = foreign_forward(tifffile.imread(images / name))  # zero mean, unit variance; smoothing; sigmoid
        assert result.dtype == np.float32 and result.shape == expected.shape
        # The odd size is padded (reflect) to one the package accepts after its pre-processing: only the
        # last row and column, which see the padding instead of the network's zero border, differ.
        assert np.abs(result - expected)[:-1, :-1].max() < 1e-5
        if name == "valid.tif":
            assert np.abs(result - expected).max() < 1e-5
    assert main(["info", str(foreign)]) == 0
    assert "name: Smooth foreign model" in capsys.readouterr().out


def test_state_dict_weights_with_their_own_architecture_file(tmp_path, images):
    package = write_foreign_package(tmp_path / "sd", weights=("pytorch_state_dict",))
    assert main(["infer", str(images / "valid.tif"), "--model", str(package), "--output", str(tmp_path / "out")]) == 0
    expected = foreign_forward(tifffile.imread(images / "valid.tif"))
    assert np.abs(tifffile.imread(tmp_path / "out" / "valid.tif") - expected).max() < 1e-5


def test_an_older_spec_0_4_package_runs_too(tmp_path, images):
    package = write_foreign_package_v04(tmp_path)
    assert main(["infer", str(images / "valid.tif"), "--model", str(package), "--output", str(tmp_path / "out")]) == 0
    expected = foreign_forward(tifffile.imread(images / "valid.tif"))
    assert np.abs(tifffile.imread(tmp_path / "out" / "valid.tif") - expected).max() < 1e-5


def test_bad_and_unsupported_packages_are_one_line(foreign, images, tmp_path, capsys):
    keras = write_foreign_package(tmp_path / "keras", keras_only=True)
    not_bmz = tmp_path / "notes.zip"
    with zipfile.ZipFile(not_bmz, "w") as z:
        z.writestr("notes.txt", "hello")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    cases = [
        (keras, [], "weights in keras_hdf5 only; img2img runs torchscript, pytorch_state_dict, onnx weights"),
        (not_bmz, [], "not a BioImage.IO package (no rdf.yaml or bioimageio.yaml inside)"),
        (broken, [], "not a readable zip file"),
        (foreign, ["--tta"], "--tta: not for BioImage.IO packages from elsewhere"),
        (foreign, ["--probabilities"], "--probabilities is for img2img segmentation models"),
    ]
    for model, extra, message in cases:
        out = tmp_path / "out"
        code = main(["infer", str(images / "valid.tif"), "--model", str(model), "--output", str(out), *extra])
        err = capsys.readouterr().err
        assert message in err, err
        if "--probabilities" in extra:  # a per-file failure: reported, exit 1, nothing written
            assert code == 1 and not list(out.glob("*.tif"))
        else:
            assert code == 2 and err.count("\n") == 1 and not (out.exists() and any(out.iterdir()))


def test_a_cyclegan_package_runs_the_direction_it_was_exported_in(tmp_path):
    from img2img.inference.predictor import Predictor

    checkpoint = save_checkpoint(untrained_kind("cyclegan"), tmp_path / "cycle.ckpt")
    package = export_model(checkpoint, tmp_path / "b_to_a.zip", direction="BtoA").path
    image = (np.random.default_rng(3).random((3, 40, 56)) * 255).astype(np.uint8)  # B has three channels
    from_package = Predictor.from_checkpoint(package, device="cpu", precision="32")
    assert (from_package.in_channels, from_package.out_channels) == (3, 1)
    expected = Predictor.from_checkpoint(checkpoint, device="cpu", precision="32", direction="BtoA").predict(image, "CYX")
    assert np.array_equal(from_package.predict(image, "CYX"), expected)
    # --direction still chooses: the other way reads A's one channel.
    assert Predictor.from_checkpoint(package, device="cpu", direction="AtoB").in_channels == 1


def test_large_planes_run_in_blended_tiles_with_the_whole_planes_statistics(foreign, monkeypatch):
    import img2img.inference.bmz_predictor as bmz

    predictor = bmz.BmzPredictor(foreign, device="cpu")
    assert predictor._tileable()  # sigmoid is pixel by pixel
    image = (np.random.default_rng(9).random((150, 200)) * 3000).astype(np.uint16)
    whole = predictor.predict(image, "YX")
    monkeypatch.setattr(bmz, "TILE_ABOVE_PIXELS", 0)
    monkeypatch.setattr(bmz, "TILE", 64)
    monkeypatch.setattr(bmz, "TILE_OVERLAP", 16)
    calls = []
    run_ready = predictor._run_ready
    monkeypatch.setattr(predictor, "_run_ready", lambda ready, stat: calls.append(ready.shape) or run_ready(ready, stat))
    tiled = predictor.predict(image, "YX")
    assert len(calls) > 4 and all(shape[-1] <= 64 for shape in calls)
    expected = foreign_forward(image)  # zero mean, unit variance over the whole image, not per tile
    assert np.abs(tiled - whole)[:-1, :-1].max() < 1e-5 and np.abs(tiled - expected)[:-1, :-1].max() < 1e-5
