"""synth -> train -> infer -> evaluate through the real CLI on CPU, plus resume and bad input."""

import json
import shutil

import numpy as np
import pytest
import tifffile
import torch

from img2img.cli import main
from tests.conftest import TINY_MODEL, write_config

pytestmark = pytest.mark.slow


def sets(*items):
    return [a for s in items for a in ("--set", s)]


def test_training_writes_checkpoints_logs_and_samples(trained):
    assert (trained / "checkpoints" / "best.ckpt").is_file() and (trained / "checkpoints" / "last.ckpt").is_file()
    assert (trained / "config.yaml").is_file() and (trained / "logs" / "version_0" / "metrics.csv").is_file()
    assert sorted(p.name for p in (trained / "samples").glob("*.png")) == ["step_000003.png", "step_000006.png"]
    checkpoint = torch.load(trained / "checkpoints" / "last.ckpt", weights_only=True)
    hp = checkpoint["hyper_parameters"]
    assert hp["in_channels"] == 1 and hp["out_channels"] == 2 and hp["input_dtype"] == "uint16"
    assert hp["config"]["normalization"]["mode"] == "percentile"


def test_infer_writes_labels_with_same_names(trained, cells, tmp_path):
    out = tmp_path / "pred"
    assert main(["infer", str(cells / "images"), "--model", str(trained / "checkpoints/best.ckpt"), "--output", str(out), "--probabilities"]) == 0
    inputs = sorted(p.stem for p in (cells / "images").glob("*.tif"))
    assert sorted(p.stem for p in out.glob("*.tif") if "_prob" not in p.stem) == inputs
    labels = tifffile.imread(out / f"{inputs[0]}.tif")
    assert labels.dtype == np.uint16 and labels.shape == (96, 96)
    probs = tifffile.imread(out / f"{inputs[0]}_probabilities.tif")
    assert probs.dtype == np.float32 and probs.shape == (2, 96, 96) and 0 <= probs.min() and probs.max() <= 1
    assert not list(out.glob(".*"))  # no temporary files left


def test_evaluate_reports_model_and_baseline(trained, cells, tmp_path, capsys):
    out = tmp_path / "eval"
    code = main(["evaluate", "--model", str(trained / "checkpoints/best.ckpt"), "--input", str(cells / "images"),
                 "--target", str(cells / "masks"), "--output", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["baseline"] == "otsu_watershed"
    for method in ("model", "baseline"):
        assert set(metrics["summary"][method]) >= {"pixel_iou", "dice", "precision", "recall", "f1"}
    assert len(metrics["per_image"]) == 6
    assert (out / "figure.png").stat().st_size > 1000 and "F1 @IoU0.5" in (out / "report.md").read_text()
    assert "baseline (otsu_watershed)" in capsys.readouterr().out


def test_resume_continues_from_the_saved_step(trained, cells, tmp_path):
    run = tmp_path / "resumed"
    shutil.copytree(trained, run)
    config = write_config(tmp_path, cells, run)
    last = run / "checkpoints" / "last.ckpt"
    args = ["train", str(config), "--resume", str(last)] + sets(*TINY_MODEL, "schedule.steps=9")
    assert main(args) == 0
    assert torch.load(last, weights_only=True)["global_step"] == 18  # 9 steps x (D + G)
    assert (run / "logs" / "version_0" / "metrics.csv").is_file() and (run / "logs" / "version_1" / "metrics.csv").is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


def test_resume_from_a_foreign_file_is_a_clear_error(cells, tmp_path, capsys):
    bogus = tmp_path / "weights.ckpt"
    torch.save({"state_dict": {}}, bogus)
    config = write_config(tmp_path, cells, tmp_path / "out")
    assert main(["train", str(config), "--resume", str(bogus)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "weights.ckpt: not an img2img checkpoint" in err


def test_config_typo_is_one_line_naming_the_key(cells, tmp_path, capsys):
    config = write_config(tmp_path, cells, tmp_path / "out")
    assert main(["train", str(config), "--set", "schedule.stepz=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown key 'schedule.stepz' (did you mean 'schedule.steps'?)" in err
    assert not (tmp_path / "out").exists()


def test_mask_of_wrong_size_names_the_file(cells, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(cells, data)
    name = sorted((data / "masks").glob("*.tif"))[2].name
    tifffile.imwrite(data / "masks" / name, np.zeros((50, 40), np.uint16))
    config = write_config(tmp_path, data, tmp_path / "out")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"masks/{name}: mask is 50x40 but its image" in err
    assert not (tmp_path / "out").exists()


def test_empty_folder_and_corrupt_file_in_infer(trained, cells, tmp_path, capsys):
    model = str(trained / "checkpoints/best.ckpt")
    (tmp_path / "empty").mkdir()
    assert main(["infer", str(tmp_path / "empty"), "--model", model, "--output", str(tmp_path / "o")]) == 2
    assert "no images matching" in capsys.readouterr().err

    folder = tmp_path / "in"
    shutil.copytree(cells / "images", folder)
    bad = sorted(folder.glob("*.tif"))[0]
    bad.write_bytes(bad.read_bytes()[:100])
    out = tmp_path / "out"
    assert main(["infer", str(folder), "--model", model, "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad.name}: cannot read TIFF" in err and "1 of 6 file(s) failed" in err
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in folder.glob("*.tif") if p != bad)


def test_infer_refuses_to_overwrite_inputs(trained, cells, tmp_path, capsys):
    folder = tmp_path / "in"
    shutil.copytree(cells / "images", folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert main(["infer", str(folder), "--model", str(trained / "checkpoints/best.ckpt"), "--output", str(folder)]) == 2
    assert "this input would be overwritten" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_corrupt_checkpoint_is_a_clear_error(cells, tmp_path, capsys):
    bad = tmp_path / "broken.ckpt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["infer", str(cells / "images"), "--model", str(bad), "--output", str(tmp_path / "o")]) == 2
    assert "broken.ckpt: cannot load checkpoint" in capsys.readouterr().err


def test_l1_loss_falls_during_training(cells, tmp_path):
    config = write_config(tmp_path, cells, tmp_path / "out")
    args = ["train", str(config)] + sets(*TINY_MODEL, "schedule.steps=40", "trainer.val_every_steps=40",
                                         "trainer.log_every_steps=1", "optimizer.lr=0.001")
    assert main(args) == 0
    import csv

    rows = list(csv.DictReader(open(tmp_path / "out" / "logs" / "version_0" / "metrics.csv")))
    l1 = [float(r["train/loss_l1"]) for r in rows if r.get("train/loss_l1")]
    assert len(l1) >= 30
    assert np.mean(l1[-5:]) < 0.7 * np.mean(l1[:5])


def test_demo_writes_report_figure_and_metrics(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "--steps", "2", "--n-train", "4"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["steps"] == 2 and set(metrics["summary"]) == {"model", "baseline"}
    assert "Otsu" in (out / "report.md").read_text() or "otsu" in (out / "report.md").read_text()
    assert (out / "figure.png").is_file() and len(list((out / "predictions").glob("*.tif"))) == 24
    # Running it again replaces the earlier demo; a foreign non-empty folder is refused.
    assert main(["demo", "--output", str(out), "--steps", "2", "--n-train", "4"]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tif").write_bytes(b"x")
    assert main(["demo", "--output", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "thesis.tif").read_bytes() == b"x"


def test_training_into_an_earlier_run_is_refused(trained, cells, tmp_path, capsys):
    config = write_config(tmp_path, cells, trained)
    before = (trained / "checkpoints" / "best.ckpt").read_bytes()
    assert main(["train", str(config)]) == 2
    assert "holds checkpoints of an earlier run" in capsys.readouterr().err
    assert (trained / "checkpoints" / "best.ckpt").read_bytes() == before


def test_unusable_accelerator_is_a_clear_error(cells, tmp_path, capsys):
    config = write_config(tmp_path, cells, tmp_path / "out")
    assert main(["train", str(config), "--set", "trainer.accelerator=tpu", "--set", "data.patch_size=64"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "accelerator='tpu'" in err


def test_dolphin_photos_train_infer_and_evaluate_against_kmeans(tmp_path, capsys):
    """The RGB photo path: the shipped dolphin config, shrunk, through synth, train, infer, evaluate."""
    data = tmp_path / "fins"
    assert main(["synth", "fins", "--output", str(data), "--n", "4", "--size", "128", "--seed", "5"]) == 0
    run = tmp_path / "run"
    args = ["train", "experiments/dolphin_segmentation.yaml"] + sets(
        f"data.input_dir={data / 'images'}", f"data.target_dir={data / 'masks'}", f"output_dir={run}", *TINY_MODEL
    )
    assert main(args) == 0
    best = run / "checkpoints" / "best.ckpt"
    assert main(["infer", str(data / "images"), "--model", str(best), "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    labels = tifffile.imread(tmp_path / "out" / "fins_0000.tif")
    assert labels.dtype == np.uint16 and labels.shape == (128, 128)
    assert main(["evaluate", "--model", str(best), "--input", str(data / "images"), "--target", str(data / "masks"),
                 "--output", str(tmp_path / "eval")]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["baseline"] == "color_kmeans" and set(metrics["summary"]) == {"model", "baseline"}
