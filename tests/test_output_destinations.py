"""Where `img2img infer` writes, and what it leaves when it cannot: every result inside --output,
bad --pattern/--name as one line before any model work, an unwritable output folder refused up
front, symlinked folders searched once, and no partial result after a full disk (issue 16)."""

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from img2img.cli import main
from img2img.errors import UserError
from img2img.inference.outputs import find_inputs, plan_outputs
from img2img.inference.predictor import Predictor
from img2img.io.images import write_image


def images(folder: Path, names=("img_0", "img_1"), shape=(40, 50)) -> list[Path]:
    rng = np.random.default_rng(0)
    return [write_image(folder / f"{n}.tif", rng.integers(0, 4000, shape).astype(np.uint16), axes="YX") for n in names]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def no_model(monkeypatch):
    """Fails the test if a model is loaded: these errors must come before any model work."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")
    monkeypatch.setattr(Predictor, "from_checkpoint", refuse)


def all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- 1. every destination inside --output -------------------------------------------------------

def test_a_pattern_reaching_outside_the_input_folder_is_refused(translator, tmp_path, capsys, no_model):
    images(tmp_path / "in")
    images(tmp_path / "other", names=("x",))
    code = main(["infer", str(tmp_path / "in"), "--pattern", "../other/*.tif", "--name", "{stem}_seg.tif",
                 "--model", str(translator), "--output", str(tmp_path / "out"), "--device", "cpu"])
    err = one_error_line(capsys)
    assert code == 2 and "--pattern" in err and "'..'" in err
    assert all_files(tmp_path / "other") == ["x.tif"] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("pattern", ["", "   ", "{abs}/*.tif", "{abs}"])
def test_empty_and_absolute_patterns_are_one_line(translator, tmp_path, capsys, no_model, pattern):
    images(tmp_path / "in")
    pattern = pattern.format(abs=tmp_path / "in")
    code = main(["infer", str(tmp_path / "in"), "--pattern", pattern, "--model", str(translator),
                 "--output", str(tmp_path / "out")])
    err = one_error_line(capsys)
    assert code == 2 and err.startswith("error: --pattern")


def test_a_pattern_with_a_subfolder_mirrors_it_inside_the_output(tmp_path):
    images(tmp_path / "in" / "sub")
    found = find_inputs([tmp_path / "in"], "sub/*.tif")
    jobs = plan_outputs(found, tmp_path / "out")
    assert [j.destination for j in jobs] == [tmp_path / "out" / "sub" / "img_0.tif", tmp_path / "out" / "sub" / "img_1.tif"]


def test_planned_destinations_cannot_leave_the_output_folder(tmp_path):
    """The last guard, for API callers that pass (file, subfolder) pairs themselves."""
    with pytest.raises(UserError, match="outside the output folder"):
        plan_outputs([(tmp_path / "in" / "a.tif", Path("../elsewhere"))], tmp_path / "out")
    with pytest.raises(UserError, match="outside the output folder"):
        plan_outputs([(tmp_path / "in" / "a.tif", tmp_path / "abs")], tmp_path / "out")


@pytest.mark.parametrize("template", [
    "{stem", "{stem}}", "{stem}}.tif", "{stem:d}.tif", "{stem:{name}}.tif", "{stem:>20}.tif", "{stem!r}.tif",
    "{0}.tif", "{}.tif", "{stem[0]}.tif",
    "{stem.upper}.tif", "{stem}/../x.tif", "../{stem}.tif", "{stem}\\x.tif", "..", ".tif", "{stem}",
])
def test_bad_name_templates_are_one_line_before_the_model_is_loaded(translator, tmp_path, capsys, no_model, template):
    images(tmp_path / "in")
    code = main(["infer", str(tmp_path / "in"), "--name", template, "--model", str(translator),
                 "--output", str(tmp_path / "out")])
    err = one_error_line(capsys)
    assert code == 2 and err.startswith(f"error: --name {template!r}") and "{stem}" in err
    assert not (tmp_path / "out").exists()


def test_good_templates_still_work(tmp_path):
    jobs = plan_outputs([tmp_path / "in" / "a.png"], tmp_path / "out", template="{stem}_{suffix}{{x}}.tif")
    assert jobs[0].destination == tmp_path / "out" / "a_.png{x}.tif"


# --- 2. an output folder that cannot be written --------------------------------------------------

def test_an_output_folder_that_cannot_be_created_fails_before_any_model_work(translator, tmp_path, capsys, no_model):
    images(tmp_path / "in")
    (tmp_path / "file").write_text("a file where a folder should be")
    out = tmp_path / "file" / "out"
    code = main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out)])
    err = one_error_line(capsys)
    assert code == 2 and str(out) in err and "--output" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; see the tmpfs test below")
def test_a_read_only_output_folder_fails_before_any_model_work(translator, tmp_path, capsys, no_model):
    images(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir(mode=0o555)
    try:
        code = main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out)])
    finally:
        out.chmod(0o755)
    err = one_error_line(capsys)
    assert code == 2 and str(out) in err and "writable" in err and list(out.iterdir()) == []


def in_mount_namespace(tmp_path: Path, options: str, command: list[str]) -> subprocess.CompletedProcess | None:
    """Run `command` with a private tmpfs (mount `options`) on tmp_path/mnt; None where this
    machine does not allow it (no unshare, no privileges)."""
    if shutil.which("unshare") is None:
        return None
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = f'mount -t tmpfs -o {options} none "$1" || exit 99; shift; exec "$@"'
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(mnt), *command],
                            capture_output=True, text=True, env=env, timeout=300)
    return None if result.returncode == 99 else result


def test_a_read_only_file_system_is_refused_before_the_model_is_read(tmp_path):
    """A real read-only mount (root cannot write there either). The model does not exist: the
    error must be about the folder, because the folder is checked first."""
    images(tmp_path / "in")
    out = tmp_path / "mnt" / "out"
    command = [sys.executable, "-m", "img2img", "infer", str(tmp_path / "in"), "--model", str(tmp_path / "none.ckpt"),
               "--output", str(out)]
    result = in_mount_namespace(tmp_path, "ro,size=1m", command)
    if result is None:
        pytest.skip("cannot mount a private tmpfs here")
    err = result.stderr.strip()
    assert result.returncode == 2 and len(err.splitlines()) == 1, result.stderr
    assert str(out) in err and "read-only" in err and "--output" in err


# --- 3. symlinked folders under --recursive --------------------------------------------------------

def test_recursive_search_visits_each_real_folder_once(tmp_path):
    top = tmp_path / "in"
    images(top, names=("a",))
    images(top / "sub", names=("b",))
    images(tmp_path / "ext", names=("c",))
    (top / "sub" / "loop").symlink_to(top, target_is_directory=True)   # a loop back to the top
    (top / "a_link").symlink_to(top / "sub", target_is_directory=True)  # sorts before the real folder
    (top / "ext").symlink_to(tmp_path / "ext", target_is_directory=True)  # followed: it is elsewhere
    (tmp_path / "ext" / "back").symlink_to(top, target_is_directory=True)  # and loops back
    found = find_inputs([top], recursive=True)
    assert [(f.relative_to(top).as_posix(), sub.as_posix()) for f, sub in found] == [
        ("a.tif", "."), ("ext/c.tif", "ext"), ("sub/b.tif", "sub")]


def test_recursive_run_over_a_symlink_loop_writes_each_image_once(translator, tmp_path):
    top = tmp_path / "in"
    images(top, names=("a",))
    images(top / "sub", names=("b",))
    (top / "sub" / "again").symlink_to(top, target_is_directory=True)
    out = tmp_path / "out"
    assert main(["infer", str(top), "--recursive", "--model", str(translator), "--output", str(out), "--device", "cpu"]) == 0
    assert all_files(out) == ["a.tif", "sub/b.tif"]


# --- 5. a full disk ---------------------------------------------------------------------------------

def test_a_full_disk_leaves_no_partial_result_and_the_rest_is_written(segmenter, tmp_path, capsys, monkeypatch):
    """The probability map of img_1 does not fit: its label image, already in place, is taken
    back too, no temporary remains, the failure is one line, and img_0 and img_2 are written."""
    from img2img.io import tiff as image_io

    images(tmp_path / "in", names=("img_0", "img_1", "img_2"))
    write_tiff = image_io._imwrite

    def full_disk(path, data, *args, **kwargs):
        if path.name.startswith(".img_1_probabilities."):
            path.write_bytes(b"II*\x00 the first blocks")  # part of the file is on disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_tiff(path, data, *args, **kwargs)

    monkeypatch.setattr(image_io, "_imwrite", full_disk)
    out = tmp_path / "out"
    code = main(["infer", str(tmp_path / "in"), "--model", str(segmenter), "--output", str(out),
                 "--probabilities", "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    failed = [line for line in err if line.startswith("failed:")]
    assert len(failed) == 1 and "img_1_probabilities.tif" in failed[0] and "disk full" in failed[0], err
    assert "1 of 3 file(s) failed" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == [
        "img_0.tif", "img_0_probabilities.tif", "img_2.tif", "img_2_probabilities.tif"]  # no img_1, no temporary


def test_a_real_full_disk_leaves_no_partial_result(tmp_path):
    """A 120 KB tmpfs: the small image's results fit, the large one's probability map does not."""
    write_image(tmp_path / "in" / "big.tif", np.random.default_rng(0).integers(0, 4000, (200, 200)).astype(np.uint16))
    write_image(tmp_path / "in" / "small.tif", np.random.default_rng(1).integers(0, 4000, (32, 32)).astype(np.uint16))
    from tests.model_builders import save_checkpoint, untrained

    model = save_checkpoint(untrained(), tmp_path / "s.ckpt")
    out = tmp_path / "mnt" / "out"
    command = [sys.executable, "-m", "img2img", "infer", str(tmp_path / "in"), "--model", str(model),
               "--output", str(out), "--probabilities", "--device", "cpu"]
    listing = [sys.executable, "-c", "import os, sys; print(sorted(os.listdir(sys.argv[1])))", str(out)]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    # The listing has to happen inside the namespace, where the tmpfs is.
    script = " ".join(f"'{a}'" for a in command) + "; echo rc=$?; " + " ".join(f"'{a}'" for a in listing)
    result = in_mount_namespace(tmp_path, "size=120k", ["sh", "-c", script])
    if result is None:
        pytest.skip("cannot mount a private tmpfs here")
    assert "rc=1" in result.stdout, (result.stdout, result.stderr)
    assert result.stdout.strip().splitlines()[-1] == "['small.tif', 'small_probabilities.tif']"  # no big.tif
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "big" in failed[0] and "disk full" in failed[0], result.stderr
