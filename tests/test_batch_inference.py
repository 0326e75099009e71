"""`img2img infer` on folders: pixel types and axes kept, names, resume, dry run, failures,
channel mapping, pixel size, sharding, out-of-memory retry and the bf16 check."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from img2img.cli import main
from img2img.errors import UserError
from img2img.inference import Predictor
from img2img.inference.outputs import parse_shard, shard_from_environment, take_shard
from img2img.io.images import read_image, write_image
from img2img.io.metadata import Calibration


def images(folder: Path, n=3, shape=(70, 90), dtype=np.uint16) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    top = 1.0 if np.dtype(dtype).kind == "f" else np.iinfo(dtype).max
    return [write_image(folder / f"img_{i}.tif", (rng.random(shape) * top).astype(dtype), axes="YX") for i in range(n)]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_image_results_keep_pixel_type_shape_and_axes(translator, dtype):
    predictor = Predictor.from_checkpoint(translator, device="cpu", tile=64, overlap=16)
    image = (np.random.default_rng(0).random((2, 100, 75)) * (200 if dtype != np.float32 else 1)).astype(dtype)
    result = predictor.predict(image, axes="ZYX")
    assert result.dtype == dtype and result.shape == image.shape
    assert Predictor.from_checkpoint(translator, device="cpu", output_dtype="float32").predict(image[0]).dtype == np.float32


def test_percentile_model_output_lies_in_the_input_range(translator):
    predictor = Predictor.from_checkpoint(translator, device="cpu")
    image = np.random.default_rng(0).integers(1000, 3000, (64, 64)).astype(np.uint16)
    result = predictor.predict(image).astype(int)
    lo, hi = np.percentile(image, [1, 99.8])
    assert result.min() >= lo - 1 and result.max() <= hi + 1


def test_folder_run_writes_same_names_and_keeps_pixel_size(translator, tmp_path):
    sources = images(tmp_path / "in")
    tifffile.imwrite(sources[0], tifffile.imread(sources[0]), resolution=(2.5, 2.5), resolutionunit=3)
    assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == ["img_0.tif", "img_1.tif", "img_2.tif"]
    result = read_image(tmp_path / "out" / "img_0.tif")
    assert result.data.dtype == np.uint16 and result.data.shape == (70, 90) and result.axes == "YX"
    assert result.resolution == Calibration(x=4000, y=4000, unit="micrometer")  # 2.5 px per cm


def test_name_template_recursive_and_refusal_beside_inputs(translator, tmp_path, capsys):
    images(tmp_path / "in", n=1)
    images(tmp_path / "in" / "sub", n=1)
    args = ["infer", str(tmp_path / "in"), "--model", str(translator), "--device", "cpu"]
    assert main(args + ["--output", str(tmp_path / "out"), "--recursive", "--name", "{stem}_clean.tif"]) == 0
    assert (tmp_path / "out" / "img_0_clean.tif").is_file() and (tmp_path / "out" / "sub" / "img_0_clean.tif").is_file()
    assert main(args + ["--output", str(tmp_path / "in"), "--name", "{stem}.png"]) == 2
    assert "beside img_0.tif under its own name" in capsys.readouterr().err
    assert main(args + ["--output", str(tmp_path / "in"), "--name", "{stem}_x.tif"]) == 0  # names change: allowed
    assert main(args + ["--output", str(tmp_path / "o"), "--name", "{stem}"]) == 2


def test_dry_run_writes_nothing(translator, tmp_path, capsys):
    images(tmp_path / "in", n=2)
    assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(tmp_path / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "img_0.tif -> " in out and "dry run: 2 file(s)" in out
    assert not (tmp_path / "out").exists()


def test_skip_existing_resumes_an_interrupted_run(translator, tmp_path, capsys):
    """A killed run leaves finished results and at most a hidden temporary file: the rerun
    keeps the finished ones untouched, removes the leftover and does the rest."""
    images(tmp_path / "in", n=3)
    out = tmp_path / "out"
    out.mkdir()
    finished = write_image(out / "img_0.tif", np.full((70, 90), 7, np.uint16), axes="YX")
    (out / ".img_1.tmp-999999999.tif").write_bytes(b"half a file")
    args = ["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu"]
    assert main(args + ["--skip-existing"]) == 0
    assert "skipped 1 finished" in capsys.readouterr().out
    assert np.all(tifffile.imread(finished) == 7)
    assert sorted(p.name for p in out.iterdir()) == ["img_0.tif", "img_1.tif", "img_2.tif"]


def test_corrupt_and_wrong_files_are_reported_and_the_rest_written(segmenter, tmp_path, capsys):
    images(tmp_path / "in", n=2)
    (tmp_path / "in" / "broken.tif").write_bytes(b"II*\x00garbage")
    write_image(tmp_path / "in" / "rgb.png", np.zeros((40, 40, 3), np.uint8))
    code = main(["infer", str(tmp_path / "in"), "--model", str(segmenter), "--output", str(tmp_path / "out"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.tif: cannot read TIFF" in err and "rgb.png" in err and "--channels" in err
    assert "2 of 4 file(s) failed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_0.tif", "img_1.tif"]
    labels = tifffile.imread(tmp_path / "out" / "img_0.tif")
    assert labels.dtype == np.uint16 and labels.shape == (70, 90)


def test_labels_decoded_in_the_writer_thread_equal_predict(segmenter, tmp_path, monkeypatch):
    """A folder run leaves each plane's watershed to the writer thread (overlapping the next
    file's network); the labels are exactly those of `predict`, and a decoding that fails is
    reported for its own file only."""
    import threading

    from img2img.inference import segmenting
    from img2img.inference.batch import run_files
    from img2img.inference.outputs import plan_outputs

    paths = images(tmp_path / "in", n=3)
    predictor = Predictor.from_checkpoint(segmenter, device="cpu")
    expected = {p.name: predictor.predict(tifffile.imread(p)) for p in paths}
    decoded_in = []
    real_decode = segmenting.decode_rescaled

    def decode(maps, decoding, scale=1.0):
        decoded_in.append(threading.current_thread() is threading.main_thread())
        if len(decoded_in) == 2:
            raise RuntimeError("decoding broke")
        return real_decode(maps, decoding, scale)

    monkeypatch.setattr(segmenting, "decode_rescaled", decode)
    report = run_files(predictor, plan_outputs(paths, tmp_path / "out"), progress=False)
    assert decoded_in.count(False) == 3  # every plane's labels were made by the writer
    assert list(report.failures) == [paths[1]] and "decoding broke" in report.failures[paths[1]]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img_0.tif", "img_2.tif"]
    for name in ("img_0.tif", "img_2.tif"):
        np.testing.assert_array_equal(tifffile.imread(tmp_path / "out" / name), expected[name])


def test_channels_map_an_rgb_image_onto_a_gray_model(segmenter):
    rgb = np.random.default_rng(0).integers(0, 255, (50, 60, 3)).astype(np.uint8)
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", channels=[1])
    assert predictor.predict(rgb, axes="YXC").shape == (50, 60)
    with pytest.raises(UserError, match="channels 0..2 only"):
        Predictor.from_checkpoint(segmenter, device="cpu", channels=[3]).predict(rgb, axes="YXC")
    with pytest.raises(UserError, match="model takes 1"):
        Predictor.from_checkpoint(segmenter, device="cpu", channels=[0, 1]).predict(rgb, axes="YXC")


def test_labels_cannot_be_squeezed_into_8_bits(segmenter):
    with pytest.raises(UserError, match="label images are always uint16"):
        Predictor.from_checkpoint(segmenter, device="cpu", output_dtype="uint8")


def test_out_of_memory_retries_with_smaller_batches_and_tiles(segmenter):
    reference = Predictor.from_checkpoint(segmenter, device="cpu", tile=128, overlap=32, batch_size=4, precision="32")
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", tile=128, overlap=32, batch_size=4, precision="32")
    forward = predictor._forward

    def small_memory(x):
        if x.shape[0] * x.shape[-1] * x.shape[-2] > 64 * 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(x)

    predictor._forward = small_memory
    image = np.random.default_rng(0).integers(0, 4000, (200, 300)).astype(np.uint16)
    with pytest.warns(UserWarning, match="retrying with tile 64 px, batch 1"):
        result = predictor.predict_probabilities(image)
    assert (predictor.tile, predictor.batch_size) == (64, 1)
    assert result.shape == reference.predict_probabilities(image).shape


def test_bf16_is_dropped_when_it_changes_the_output(segmenter):
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", precision="32")
    predictor.precision, predictor._precision_checked = "bf16", False  # as 'auto' chooses on bf16 hardware
    forward = predictor._forward
    predictor._forward = lambda x: forward(x) + (0.3 if predictor.precision == "bf16" else 0.0)  # bf16 ruins it
    image = np.random.default_rng(0).integers(0, 4000, (64, 64)).astype(np.uint16)
    with pytest.warns(UserWarning, match="using float32"):
        result = predictor.predict_probabilities(image)
    assert predictor.precision == "32"
    exact = Predictor.from_checkpoint(segmenter, device="cpu", precision="32").predict_probabilities(image)
    np.testing.assert_allclose(result, exact, atol=1e-5)


def test_bf16_is_kept_when_it_matches_float32(segmenter):
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", precision="32")
    predictor.precision, predictor._precision_checked = "bf16", False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predictor.predict_probabilities(np.random.default_rng(0).integers(0, 4000, (64, 64)).astype(np.uint16))
    assert predictor.precision == "bf16"


def test_the_precision_choice_does_not_depend_on_which_file_comes_first(segmenter):
    """A model that bf16 ruins on some images only (here: brighter on the right): the choice once
    followed the first tile, so such a file came out different alone and after another one."""
    ramp = np.tile(np.linspace(0, 4000, 64), (64, 1)).astype(np.uint16)
    right_bright, left_bright = ramp, ramp[:, ::-1].copy()
    results = {}  # right-bright file first? -> (its result, precision chosen)
    for order in ((left_bright, right_bright), (right_bright, left_bright)):
        predictor = Predictor.from_checkpoint(segmenter, device="cpu", precision="32")
        predictor.precision, predictor._precision_checked = "bf16", False
        forward = predictor._forward

        def fragile(x, forward=forward, predictor=predictor):
            half = x.shape[-1] // 2
            ruined = predictor.precision == "bf16" and float(x[..., half:].mean() - x[..., :half].mean()) > 0.5
            return forward(x) + (0.3 if ruined else 0.0)

        predictor._forward = fragile
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = [predictor.predict_probabilities(image) for image in order]
        first = order[0] is right_bright
        results[first] = (out[0] if first else out[1], predictor.precision)
    assert results[True][1] == results[False][1]
    np.testing.assert_array_equal(results[True][0], results[False][0])


def test_shards_split_the_files_between_array_tasks(monkeypatch):
    jobs = list(range(10))
    shards = [take_shard(jobs, k, 3) for k in range(3)]
    assert sorted(sum(shards, [])) == jobs and max(map(len, shards)) - min(map(len, shards)) <= 1
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1-2"):
        with pytest.raises(UserError, match="--shard"):
            parse_shard(bad)
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    assert shard_from_environment() == (0, 1)
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "8")
    assert shard_from_environment() == (2, 8)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "5")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "10")
    assert shard_from_environment() == (4, 10)


@pytest.mark.slow
def test_two_worker_processes_share_the_files(translator, tmp_path):
    images(tmp_path / "in", n=4)
    code = main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(tmp_path / "out"),
                 "--device", "cpu", "--workers", "2"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"img_{i}.tif" for i in range(4)]


@pytest.mark.slow
def test_a_killed_run_leaves_only_whole_files_and_resumes(translator, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    images(tmp_path / "in", n=8, shape=(256, 256))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "img2img", "infer", str(tmp_path / "in"), "--model", str(translator),
            "--output", str(out), "--device", "cpu", "--tile", "64", "--overlap", "16"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.is_dir() and any(out.glob("img_*.tif"))):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = sorted(out.glob("img_*.tif"))
    assert 1 <= len(finished) < 8, "the run was killed part-way"
    for path in finished:  # every visible result is complete
        assert tifffile.imread(path).shape == (256, 256)
    result = subprocess.run(args + ["--skip-existing"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"skipped {len(finished)} finished" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"img_{i}.tif" for i in range(8)]


def test_direction_is_only_for_cyclegan(segmenter):
    with pytest.raises(UserError, match="only CycleGAN models run in two directions"):
        Predictor.from_checkpoint(segmenter, device="cpu", direction="BtoA")


def test_predict_file_writes_one_result(translator, tmp_path):
    source = images(tmp_path / "in", n=1)[0]
    written = Predictor.from_checkpoint(translator, device="cpu").predict_file(source, tmp_path / "out" / "r.tif")
    assert written == tmp_path / "out" / "r.tif" and tifffile.imread(written).dtype == np.uint16
