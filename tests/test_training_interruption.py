"""Training that survives interruption (issue 16), with real `img2img train` processes and signals:

- last.ckpt is rewritten at every validation, not only when best.ckpt improves (a tiny model's F1
  stays 0, so best.ckpt never improves after the first validation here);
- SIGTERM to the whole process group (`timeout`, SLURM), DataLoader workers included, and SIGINT
  (Ctrl-C) stop after the current step: exit 143/130, one line naming the step and the command that
  resumes, no traceback, last.ckpt saved;
- kill -9 loses at most the steps since the latest validation;
- `--resume` from any of these ends with exactly the weights and optimizer state of a run that
  was never interrupted.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
import yaml

from img2img.config.loading import validate_config
from img2img.training import train

REPO = Path(__file__).resolve().parents[1]  # the img2img that the subprocesses run
STEPS, VAL_EVERY = 40, 4
VALIDATION = re.compile(r"step (\d+)/\d+ \(\d+%\) \| validation:")


def tiny_config(cells: Path, out: Path, workers: int = 0, steps: int = STEPS, val_every: int = VAL_EVERY) -> dict:
    return {
        "model": {"name": "pix2pix", "generator": {"base_channels": 8}, "discriminator": {"base_channels": 8}},
        "data": {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 64,
                 "batch_size": 2, "patches_per_image": 2, "num_workers": workers},
        "schedule": {"steps": steps},
        "trainer": {"accelerator": "cpu", "val_every_steps": val_every, "log_every_steps": 5, "samples": 0,
                    "precision": "32"},
        "output_dir": str(out),
    }


def write_config(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Run:
    """`img2img train` in its own process group (so a signal to the group reaches its DataLoader
    workers, as `timeout`, SLURM and a terminal's Ctrl-C do), output to files."""

    def __init__(self, args: list[str], folder: Path):
        self.stdout_path, self.stderr_path = folder / "stdout.txt", folder / "stderr.txt"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "img2img", "train", *args], cwd=REPO, stdout=out, stderr=err,
                start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
            )

    def wait_for_validation(self, log: Path, at_least: int, timeout: float = 120) -> int:
        """Blocks until train.log shows a validation at step >= at_least; returns that step."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            steps = [int(s) for s in VALIDATION.findall(log.read_text())] if log.exists() else []
            if steps and max(steps) >= at_least:
                return max(steps)
            if self.process.poll() is not None:
                pytest.fail(f"training ended (exit {self.process.returncode}) before step {at_least}: {self.stderr()}")
            time.sleep(0.02)
        self.kill()
        pytest.fail(f"no validation at step {at_least} within {timeout} s")

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def finish(self, timeout: float = 120) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"training did not stop within {timeout} s: {self.stderr()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def run_to_end(args: list[str], folder: Path) -> Run:
    run = Run(args, folder)
    assert run.finish() == 0, run.stderr()
    return run


def load_last(out: Path) -> dict:
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)


def final_state(out: Path) -> dict:
    checkpoint = load_last(out)
    moments = {f"opt{i}.{k}.{name}": v for i, opt in enumerate(checkpoint["optimizer_states"])
               for k, state in opt["state"].items() for name, v in state.items()}
    return {**checkpoint["state_dict"], **moments, "global_step": torch.tensor(checkpoint["global_step"])}


def assert_same_state(out: Path, reference: Path) -> None:
    a, b = final_state(reference), final_state(out)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs from the uninterrupted run"


def resume_args(stderr: str) -> list[str]:
    """The arguments of the resume command that the one-line message gives."""
    command = stderr.split("resume with: ", 1)[1].splitlines()[0]
    words = shlex.split(command)
    assert words[:2] == ["img2img", "train"] and "--resume" in words
    return words[2:]


@pytest.fixture(scope="module")
def uninterrupted(cells, tmp_path_factory) -> Path:
    """Output folder of the run never interrupted (no DataLoader workers: exact resume holds for any number)."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    config = write_config(folder, tiny_config(cells, folder / "out"))
    run = run_to_end([str(config)], folder)
    assert "training done: 40 of 40 steps" in run.stdout()
    return folder / "out"


def assert_stopped_cleanly(run: Run, name: str, code: int, out: Path) -> int:
    """Exit code, one message line, no traceback, last.ckpt of the step named; returns that step."""
    assert run.finish() == code, run.stderr()
    stderr = run.stderr()
    assert "Traceback" not in stderr and "DataLoader worker" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("interrupted")]
    assert len(lines) == 1, stderr
    match = re.fullmatch(rf"interrupted at step (\d+) of {STEPS} \({name}\); resume with: img2img train .+ "
                         rf"--resume \S*last\.ckpt", lines[0])
    assert match, lines[0]
    step = int(match.group(1))
    assert load_last(out)["global_step"] == 2 * step  # two optimizer steps per training step
    assert not list((out / "checkpoints").glob(".*tmp*")), "a temporary checkpoint was left behind"
    return step


@pytest.mark.slow
def test_sigterm_to_the_process_group_with_workers_saves_and_resumes_exactly(cells, tmp_path, uninterrupted):
    config = write_config(tmp_path, tiny_config(cells, tmp_path / "out", workers=1))
    run = Run([str(config)], tmp_path)
    seen = run.wait_for_validation(tmp_path / "out" / "train.log", VAL_EVERY)
    run.signal_group(signal.SIGTERM)
    step = assert_stopped_cleanly(run, "SIGTERM", 143, tmp_path / "out")
    assert seen <= step < STEPS
    assert f"interrupted at step {step} of {STEPS} (SIGTERM)" in (tmp_path / "out" / "train.log").read_text()
    resumed = run_to_end(resume_args(run.stderr()), tmp_path)
    assert f"training: resuming at step {step} of {STEPS}" in resumed.stdout()
    assert_same_state(tmp_path / "out", uninterrupted)


@pytest.mark.slow
def test_ctrl_c_after_a_validation_saves_and_resumes_exactly(cells, tmp_path, uninterrupted):
    config = write_config(tmp_path, tiny_config(cells, tmp_path / "out", workers=1))
    run = Run([str(config)], tmp_path)
    seen = run.wait_for_validation(tmp_path / "out" / "train.log", VAL_EVERY)
    run.signal_group(signal.SIGINT)  # a terminal's Ctrl-C reaches the whole foreground process group
    step = assert_stopped_cleanly(run, "SIGINT", 130, tmp_path / "out")
    assert seen <= step < STEPS
    run_to_end(resume_args(run.stderr()), tmp_path)
    assert_same_state(tmp_path / "out", uninterrupted)


@pytest.mark.slow
def test_kill_9_loses_only_the_steps_since_the_latest_validation(cells, tmp_path, uninterrupted):
    config = write_config(tmp_path, tiny_config(cells, tmp_path / "out"))
    out = tmp_path / "out"
    run = Run([str(config)], tmp_path)
    seen = run.wait_for_validation(out / "train.log", 3 * VAL_EVERY)
    run.signal_group(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    # The validation just logged may still have been saving last.ckpt: then the one before holds.
    saved = load_last(out)["global_step"] // 2
    assert saved >= seen - VAL_EVERY and saved % VAL_EVERY == 0, f"last.ckpt is of step {saved}, validated {seen}"
    run_to_end([str(config), "--resume", str(out / "checkpoints" / "last.ckpt")], tmp_path)
    assert_same_state(out, uninterrupted)


class LastCheckpointSteps(pl.Callback):
    """Records the step stored in last.ckpt at the start of every training step."""

    def __init__(self, path: Path):
        self.path, self.steps = path, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.steps.append(torch.load(self.path, weights_only=True)["global_step"] // 2 if self.path.exists() else None)


def test_last_checkpoint_is_rewritten_at_every_validation(cells, tmp_path):
    config = validate_config(tiny_config(cells, tmp_path / "out", steps=7, val_every=2))
    seen = LastCheckpointSteps(tmp_path / "out" / "checkpoints" / "last.ckpt")
    train(config, progress=False, callbacks=[seen])
    # Steps 1..7 start with last.ckpt of: none, none, step 2, step 2, step 4, step 4, step 6.
    assert seen.steps == [None, None, 2, 2, 4, 4, 6]
    assert load_last(tmp_path / "out")["global_step"] == 2 * 7


class KeepLastCheckpoint(pl.Callback):
    """Copies last.ckpt as it is when step `step` + 1 starts (i.e. as the validation at `step` left it)."""

    def __init__(self, path: Path, step: int, copy: Path):
        self.path, self.step, self.copy = path, step, copy

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if pl_module.training_steps_done == self.step + 1:
            shutil.copy(self.path, self.copy)


@pytest.mark.filterwarnings("ignore:The dirpath has changed")
def test_cyclegan_resumes_exactly_from_a_checkpoint_written_at_a_validation(tmp_path):
    """The history pools and a mid-epoch position (4 batches an epoch, saved at step 2) come back
    from a last.ckpt that a validation wrote, not only from the one saved when a run ends."""
    from tests.test_resume import STEPS as CYCLE_STEPS, cyclegan_config, final_state as cycle_state, write_folder

    write_folder(tmp_path / "data/a", 4)
    write_folder(tmp_path / "data/b", 3)
    whole = tmp_path / "whole"
    saved = tmp_path / "at_step_2.ckpt"
    train(cyclegan_config(tmp_path / "data", whole), progress=False,
          callbacks=[KeepLastCheckpoint(whole / "checkpoints" / "last.ckpt", 2, saved)])
    assert torch.load(saved, weights_only=True)["global_step"] == 2 * 2
    resumed = tmp_path / "resumed"
    train(cyclegan_config(tmp_path / "data", resumed), resume=saved, progress=False)
    a, b = cycle_state(whole), cycle_state(resumed)
    assert a.keys() == b.keys() and b["global_step"] == 2 * CYCLE_STEPS
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs from the uninterrupted run"
