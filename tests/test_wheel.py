"""The distribution: a wheel and sdist built from a clean checkout (committed files only) install into a
fresh virtual environment and run the built-in model and the napari manifest with no source tree,
which proves the checkpoint, the manifest and the entry points are inside the wheel.

The fresh environment reuses this environment's installed dependencies (.pth lines, so no download;
folders holding our packages are left out, and .pth files of the reused folders, such as an editable
install's, are not processed),
and the wheel goes in with --no-deps; its declared requirements are checked against what is there."""

import os
import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from img2img.io.images import write_image

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
DIST = "img2img-microscopy"


def _clean_checkout(target: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], capture_output=True)
    if archive.returncode != 0:
        pytest.skip("not a git checkout: cannot take its committed files")
    target.mkdir()
    (target / "src.tar").write_bytes(archive.stdout)
    with tarfile.open(target / "src.tar") as tar:
        tar.extractall(target / "src", filter="data")
    return target / "src"


def _dependency_paths() -> list[str]:
    """This interpreter's import folders without any that hold our packages (the source tree, an
    editable install's folders), so the fresh environment finds the dependencies but only the wheel's img2img."""
    ours = ("img2img", "img2img_napari")
    return [p for p in sys.path if p and Path(p).is_dir() and not any((Path(p) / name).exists() for name in ours)]


def _run(args, cwd: Path, env: dict, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


def test_wheel_from_a_clean_checkout_runs_the_builtin_model_and_manifest(tmp_path):
    pytest.importorskip("build", reason="python -m build is not installed (the dev extra has it)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    source = _clean_checkout(tmp_path / "checkout")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], tmp_path, env)
    wheel, = dist.glob("img2img_microscopy-*.whl")
    sdist, = dist.glob("img2img_microscopy-*.tar.gz")  # python -m build makes the wheel from this sdist
    names = zipfile.ZipFile(wheel).namelist()
    assert "img2img/builtin/nuclei_segmenter.ckpt" in names and "img2img_napari/napari.yaml" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)

    fresh = tmp_path / "fresh"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(fresh)], tmp_path, env)
    python = fresh / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env).stdout.strip())
    (purelib / "zz_reuse_dependencies.pth").write_text("".join(p + "\n" for p in _dependency_paths()))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], tmp_path, env)

    work = tmp_path / "elsewhere"  # no source tree here or on the path
    work.mkdir()
    check = _run([str(python), "-c", CHECK_REQUIREMENTS.format(dist=DIST)], work, env)
    assert check.stdout.strip() == str(purelib / "img2img" / "__init__.py"), check.stdout
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:128, :128]
    blobs = sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 60.0) for y, x in rng.integers(16, 112, (12, 2)))
    write_image(work / "nuclei.tif", (blobs / blobs.max() * 200 + rng.normal(10, 3, blobs.shape)).clip(0, 255).astype(np.uint8))
    _run([str(fresh / "bin" / "img2img"), "infer", "nuclei.tif", "--model", "builtin:nuclei", "--output", "out",
          "--device", "cpu"], work, env)
    labels = __import__("tifffile").imread(work / "out" / "nuclei.tif")
    assert labels.shape == (128, 128) and labels.max() >= 3
    if importlib.util.find_spec("npe2") is not None:  # the napari extra
        manifest = _run([str(python), "-c", VALIDATE_MANIFEST.format(dist=DIST)], work, env)
        assert manifest.stdout.strip() == f"{DIST} {purelib / 'img2img_napari' / '__init__.py'}", manifest.stdout
    assert sdist.stat().st_size > 1_000_000  # the built-in checkpoint is in the sdist too


# Every requirement the wheel declares is met, and img2img imports from the fresh environment.
CHECK_REQUIREMENTS = """
import importlib.metadata as md
from packaging.requirements import Requirement
dist = md.distribution("{dist}")
for text in dist.requires or []:
    req = Requirement(text)
    if req.marker is not None and not req.marker.evaluate({{"extra": ""}}):
        continue
    version = md.version(req.name)
    assert req.specifier.contains(version, prereleases=True), (text, version)
import img2img, pathlib
print(pathlib.Path(img2img.__file__).resolve())
"""

# The napari manifest of the installed distribution validates and every command it names imports.
VALIDATE_MANIFEST = """
import pathlib
from npe2 import PluginManifest
import img2img_napari
manifest = PluginManifest.from_distribution("{dist}")
manifest.validate_imports()
print(manifest.name, pathlib.Path(img2img_napari.__file__).resolve())
"""
