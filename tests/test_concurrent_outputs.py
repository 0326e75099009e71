"""Two runs writing into one output folder at once (issue 16): temporaries name their owner (host
and pid), and a run's clean-up removes only those of dead processes on this host, so it never
deletes a file another run is still writing. Checked with real processes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from img2img.cli import main
from img2img.io import atomic
from img2img.io.images import read_image, write_image

# Runs `img2img infer` in a process of its own, in one of three roles: "plain"; "holder", whose first
# result stays under its temporary name until the other run has cleaned up; "cleaner", which starts
# once the holder holds a temporary and says when its clean-up of stale temporaries is done.
SCRIPT = r"""
import sys, time
from pathlib import Path

role, flags, args = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]


def wait_for(name):
    deadline = time.time() + 90
    while not (flags / name).exists():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {name}")
        time.sleep(0.05)


if role == "holder":
    from img2img.io import tiff

    write_tiff, held = tiff._imwrite, []

    def holding(path, *a, **k):
        write_tiff(path, *a, **k)
        if not held:
            held.append(path)
            (flags / "holding").write_text(path.name)
            wait_for("cleaned")

    tiff._imwrite = holding
elif role == "cleaner":
    wait_for("holding")
    from img2img.inference import batch

    remove = batch.remove_stale_temporaries

    def cleaning(jobs):
        remove(jobs)
        (flags / "cleaned").touch()

    batch.remove_stale_temporaries = cleaning

from img2img.cli import main

sys.exit(main(args))
"""


def start(role: str, flags: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, role, str(flags), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=300)
    return process.returncode, err


def images(folder: Path, n: int = 3) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        write_image(folder / f"img_{i}.tif", rng.integers(0, 4000, (60, 70)).astype(np.uint16), axes="YX")


def results(folder: Path) -> dict[str, np.ndarray]:
    """Every entry of a folder, read; hidden ones (temporaries) too, so that they would show."""
    return {p.name: read_image(p).data for p in sorted(folder.iterdir())}


def assert_same(found: dict, expected: dict) -> None:
    assert sorted(found) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(found[name], expected[name], err_msg=name)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- names and the clean-up rule ---------------------------------------------------------------

def test_temporaries_are_hidden_keep_the_suffix_and_name_their_owner(tmp_path):
    tmp = atomic.temporary_name(tmp_path / "cells.ome.zarr", "-old")
    assert tmp.name.startswith(".cells.ome.tmp-") and tmp.suffix == ".zarr"
    assert atomic.temporary_owner(tmp, tmp_path / "cells.ome.zarr") == (atomic.HOST, os.getpid())
    assert atomic.temporary_owner(tmp_path / ".a.tmp-12345.tif", tmp_path / "a.tif") == (None, 12345)  # older name
    assert atomic.temporary_owner(tmp_path / ".a.tmp-node-7-12.tif", tmp_path / "a.tif") == ("node-7", 12)
    assert atomic.temporary_owner(tmp_path / ".a.tmpx.tif", tmp_path / "a.tif") is None


def test_clean_up_removes_only_dead_local_processes_temporaries(translator, tmp_path):
    images(tmp_path / "in", n=2)
    out = tmp_path / "out"
    out.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        target, dead = out / "img_1.tif", dead_pid()
        kept = [atomic.temporary_name(target, pid=live.pid), atomic.temporary_name(target, host="elsewhere", pid=dead),
                out / f".img_1.tmp-{live.pid}.tif"]
        removed = [atomic.temporary_name(target, pid=dead), out / f".img_1.tmp-{dead}.tif"]
        store = atomic.temporary_name(out / "img_0.ome.zarr", pid=dead)  # a killed run's store, a folder
        (store / "0").mkdir(parents=True)
        for path in kept + removed:
            path.write_bytes(b"half a file")
        assert sorted(atomic.leftover_temporaries(target)) == sorted(removed)
        assert atomic.leftover_temporaries(out / "img_0.ome.zarr") == [store]
        assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu"]) == 0
        assert main(["infer", str(tmp_path / "in"), "--model", str(translator), "--output", str(out), "--device", "cpu",
                     "--name", "{stem}.ome.zarr"]) == 0
        assert all(p.read_bytes() == b"half a file" for p in kept)  # another live run's, another host's
        assert not any(p.exists() for p in removed) and not store.exists()
    finally:
        live.kill()
        live.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_a_reused_process_id_does_not_keep_a_dead_runs_temporary(tmp_path):
    """The temporary is older than the live process that has its id now: that process cannot
    have written it."""
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        target = tmp_path / "a.tif"
        old, new = atomic.temporary_name(target, pid=live.pid), atomic.temporary_name(target, "-old", pid=live.pid)
        old.write_bytes(b"a killed run's")
        new.write_bytes(b"in progress")
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        assert atomic.leftover_temporaries(target) == [old]
    finally:
        live.kill()
        live.wait()


def test_a_store_finished_by_another_run_meanwhile_is_replaced_not_failed(tmp_path, monkeypatch):
    """Between our look at the destination and our rename, another run puts its (whole) store
    there: ours replaces it instead of failing on a non-empty folder."""
    path = tmp_path / "img.ome.zarr"
    replace, raced = os.replace, []

    def racing(src, dst):
        if Path(dst) == path and not raced:
            raced.append(True)
            (path / "0").mkdir(parents=True)
            (path / "0" / "0.0").write_bytes(b"the other run's chunk")
        return replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", racing)
    with atomic.atomic_directory(path) as tmp:
        (tmp / "0").mkdir(parents=True)
        (tmp / "0" / "0.0").write_bytes(b"our chunk")
    assert raced and (path / "0" / "0.0").read_bytes() == b"our chunk"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.ome.zarr"]


# --- real processes ----------------------------------------------------------------------------

def test_a_second_run_does_not_delete_the_file_a_first_run_is_writing(translator, tmp_path):
    """The bug: run B's clean-up deleted run A's in-progress temporary, and A lost that result."""
    images(tmp_path / "in")
    args = [tmp_path / "in", "--model", translator, "--device", "cpu"]
    reference = start("plain", tmp_path, "infer", *args, "--output", tmp_path / "reference")
    assert finish(reference)[0] == 0
    out = tmp_path / "out"
    holder = start("holder", tmp_path, "infer", *args, "--output", out)
    cleaner = start("cleaner", tmp_path, "infer", *args, "--output", out)
    (code_a, err_a), (code_b, err_b) = finish(holder), finish(cleaner)
    assert (tmp_path / "holding").read_text().startswith(".img_0.tmp-")  # A held its temporary...
    assert (tmp_path / "cleaned").exists()  # ...while B cleaned up
    assert code_a == 0 and code_b == 0, (err_a, err_b)
    assert_same(results(out), results(tmp_path / "reference"))


@pytest.mark.parametrize("name", ["{stem}.tif", "{stem}.ome.zarr"])
def test_two_runs_at_once_on_one_folder_both_finish_with_whole_results(translator, tmp_path, name):
    images(tmp_path / "in", n=4)
    args = ["infer", tmp_path / "in", "--model", translator, "--device", "cpu", "--name", name]
    assert finish(start("plain", tmp_path, *args, "--output", tmp_path / "reference"))[0] == 0
    first = start("plain", tmp_path, *args, "--output", tmp_path / "out")
    time.sleep(0.2)
    second = start("plain", tmp_path, *args, "--output", tmp_path / "out")
    (code_a, err_a), (code_b, err_b) = finish(first), finish(second)
    assert code_a == 0 and code_b == 0, (err_a, err_b)
    assert_same(results(tmp_path / "out"), results(tmp_path / "reference"))
