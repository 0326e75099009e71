"""The npe2 manifest is valid and every command it names imports. npe2 requires the manifest's
name to be the distribution's (img2img-microscopy; the import names stay img2img and img2img_napari)."""

import subprocess
import sys

import pytest


def test_npe2_validate_passes():
    pytest.importorskip("npe2", reason="npe2 not installed")
    result = subprocess.run([sys.executable, "-m", "npe2", "validate", "img2img-microscopy", "--imports"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
