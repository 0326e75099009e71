"""Export round trips: every exportable model kind through TorchScript, ONNX and a BioImage.IO
package, compared with our own Predictor, and the package through bioimageio.core's model test."""

import zipfile

import numpy as np
import pytest
import torch
import yaml

from img2img.cli import main
from img2img.errors import UserError
from img2img.export import TOLERANCE, export_model
from img2img.export.processing import input_scaling, output_scaling
from img2img.export.reference import predictor_output
from img2img.inference.predictor import Predictor
from tests.model_builders import save_checkpoint, untrained_kind

pytest.importorskip("bioimageio.core", reason="the [export] extra is not installed")

# (kind, CycleGAN direction)
KINDS = [("segmentation", None), ("translation", None), ("cyclegan", "AtoB"), ("cyclegan", "BtoA"),
         ("superres", None), ("superres_rrdb", None), ("colorize", None), ("inpaint", None)]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_models")
    return {kind: save_checkpoint(untrained_kind(kind), folder / f"{kind}.ckpt") for kind in dict(KINDS)}


def _predictor(checkpoint, direction):
    return Predictor.from_checkpoint(checkpoint, device="cpu", precision="32", **({"direction": direction} if direction else {}))


def _other_size_input(predictor, rng):
    """An input of another size than the test tensor (a second whole multiple), in the trained pixel type."""
    m = predictor.multiple
    shape = (predictor.in_channels, max(m, 48 // m * m) + m, max(m, 80 // m * m) + 2 * m)
    dtype = np.dtype(predictor.trained_dtypes[0])
    top = np.iinfo(dtype).max if dtype.kind in "ui" else 1.0
    return (rng.random(shape) * top * 0.9).astype(dtype)


@pytest.mark.parametrize("kind,direction", KINDS, ids=[f"{k}-{d}" if d else k for k, d in KINDS])
def test_every_kind_round_trips_through_all_formats_and_the_bmz_test(kind, direction, checkpoints, tmp_path):
    checkpoint = checkpoints[kind]
    package = tmp_path / "model.zip"
    report = export_model(checkpoint, package, "bioimageio", direction=direction)  # runs bioimageio.core's test
    traceable = kind != "inpaint"
    assert set(report.differences) == ({"pytorch_state_dict", "torchscript", "onnx"} if traceable else {"pytorch_state_dict"})
    assert all(d <= TOLERANCE for d in report.differences.values())
    with zipfile.ZipFile(package) as z:
        names = set(z.namelist())
        rdf = yaml.safe_load(z.read("rdf.yaml"))
        z.extractall(tmp_path / "unpacked")
    assert {"rdf.yaml", "README.md", "cover.png", "test_input.npy", "test_output.npy", "weights.pt"} <= names
    assert rdf["format_version"].startswith("0.5") and rdf["type"] == "model"
    assert [i["id"] for i in rdf["inputs"]] == (["input", "mask"] if kind == "inpaint" else ["input"])
    assert "Validation" in (tmp_path / "unpacked" / "README.md").read_text()

    # Independently of the export's own check: the packaged TorchScript and ONNX files against a fresh
    # Predictor, on the test tensor and on an input of another size.
    if not traceable:
        return
    import onnxruntime

    predictor = _predictor(checkpoint, direction)
    scaling = input_scaling(predictor.config.normalization, predictor.trained_dtypes[0])
    test_input = np.load(tmp_path / "unpacked" / "test_input.npy")[0].astype(predictor.trained_dtypes[0])
    scripted = torch.jit.load(str(tmp_path / "unpacked" / "weights_torchscript.pt"))
    session = onnxruntime.InferenceSession(str(tmp_path / "unpacked" / "weights.onnx"), providers=["CPUExecutionProvider"])
    for image in (test_input, _other_size_input(predictor, np.random.default_rng(1))):
        expected = predictor_output(predictor, image)
        x = scaling.apply(image)[None]
        with torch.no_grad():
            from_ts = scripted(torch.from_numpy(x)).numpy()[0]
        from_onnx = session.run(None, {"input": x})[0][0]
        assert from_ts.shape == expected.shape == (predictor.out_channels,) + tuple(n * predictor.scale for n in image.shape[-2:])
        assert np.abs(from_ts - expected).max() <= TOLERANCE
        assert np.abs(from_onnx - expected).max() <= TOLERANCE
    # The package's test output is the Predictor's output in the package's output units.
    out_scaling = output_scaling(predictor.task, predictor.config.target_norm, predictor.trained_dtypes[1] or predictor.trained_dtypes[0])
    test_output = np.load(tmp_path / "unpacked" / "test_output.npy")[0]
    assert np.abs(test_output - out_scaling.apply(predictor_output(predictor, test_input))).max() <= 1e-3 * max(1.0, out_scaling.gain)


def test_bmz_core_runs_the_package_with_its_own_processing_like_our_predictor(checkpoints, tmp_path):
    """bioimageio.core's own prediction (its percentile scaling, weights, post-processing) on a new
    image equals our Predictor's maps."""
    from bioimageio.core import create_prediction_pipeline, load_description, predict

    export_model(checkpoints["segmentation"], tmp_path / "seg.zip")
    descr = load_description(tmp_path / "seg.zip")
    predictor = _predictor(checkpoints["segmentation"], None)
    image = (np.random.default_rng(2).random((1, 64, 96)) * 4000).astype(np.uint16)
    for weights in ("torchscript", "onnx", "pytorch_state_dict"):
        pipeline = create_prediction_pipeline(descr, weight_format=weights, devices=["cpu"])
        sample = predict(model=pipeline, inputs={"input": image[None].astype(np.float32)})
        maps = sample.members["output"].data.to_numpy()[0]
        assert np.abs(maps - (predictor_output(predictor, image) + 1) / 2).max() <= 1e-4, weights


@pytest.mark.parametrize("fmt,suffix", [("torchscript", ".pt"), ("onnx", ".onnx")])
def test_single_file_formats_write_one_checked_file_with_its_card(fmt, suffix, checkpoints, tmp_path, capsys):
    report = export_model(checkpoints["cyclegan"], tmp_path / f"net{suffix}", fmt, direction="BtoA")
    assert report.path == tmp_path / f"net{suffix}" and report.path.is_file() and report.differences[fmt] <= TOLERANCE
    assert main(["info", str(report.path)]) == 0
    out = capsys.readouterr().out
    assert "model: cyclegan" in out and f"format: {fmt}" in out and "direction: BtoA" in out
    assert "(B, 3, H, W) float32 on [-1, 1]" in out  # B -> A reads B's three channels
    folder = export_model(checkpoints["translation"], tmp_path / "folder", fmt).path
    assert folder == tmp_path / "folder" / f"translation{suffix}" and folder.is_file()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["folder", f"translation{suffix}", f"net{suffix}"])


def test_cli_exports_and_bad_requests_are_one_line_with_nothing_written(checkpoints, tmp_path, capsys):
    assert main(["export", str(checkpoints["segmentation"]), "--output", str(tmp_path / "a.onnx"), "--format", "onnx"]) == 0
    assert "max |difference| to the Predictor: onnx" in capsys.readouterr().out
    bad = [
        (["export", str(checkpoints["inpaint"]), "--output", str(tmp_path / "b.onnx"), "--format", "onnx"],
         "biharmonic fill"),
        (["export", str(checkpoints["inpaint"]), "--output", str(tmp_path / "b.pt"), "--format", "torchscript"],
         "use --format bioimageio"),
        (["export", str(checkpoints["segmentation"]), "--output", str(tmp_path / "b.zip"), "--direction", "BtoA"],
         "only CycleGAN"),
        (["export", str(checkpoints["segmentation"]), "--output", str(tmp_path / "b.txt"), "--format", "onnx"],
         "a onnx export is a .onnx file"),
        (["export", str(tmp_path / "a.onnx"), "--output", str(tmp_path / "b.zip")], "cannot load checkpoint"),
    ]
    for argv, message in bad:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx"]


def test_an_export_that_fails_its_check_leaves_nothing(checkpoints, tmp_path, monkeypatch):
    import img2img.export.checked as checked

    monkeypatch.setattr(checked, "TOLERANCE", -1.0)  # every difference is now too large
    for fmt, name in [("onnx", "x.onnx"), ("bioimageio", "x.zip"), ("bioimageio", "folder")]:
        with pytest.raises(UserError, match="nothing was written"):
            export_model(checkpoints["segmentation"], tmp_path / name, fmt)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_of_other_files_is_never_replaced(checkpoints, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert export_model(checkpoints["colorize"], folder).path == folder / "colorize.zip"
    assert (folder / "notes.txt").read_text() == "keep me"
    package = export_model(checkpoints["colorize"], tmp_path / "pkg").path  # a new folder is the package
    assert (package / "rdf.yaml").is_file()
    assert export_model(checkpoints["colorize"], package).path == package  # an earlier package is replaced


def test_package_folder_and_sample_image(checkpoints, tmp_path):
    from img2img.io.images import write_image

    sample = write_image(tmp_path / "sample.tif", (np.random.default_rng(3).random((300, 200)) * 900).astype(np.uint16))
    export_model(checkpoints["superres"], tmp_path / "pkg", sample=sample)
    rdf = yaml.safe_load((tmp_path / "pkg" / "rdf.yaml").read_text())
    assert np.load(tmp_path / "pkg" / "test_input.npy").shape == (1, 1, 256, 200)  # centre crop, at most 256
    assert np.load(tmp_path / "pkg" / "test_output.npy").shape == (1, 1, 512, 400)
    assert rdf["outputs"][0]["axes"][2]["scale"] == 0.5
