"""The npe2 manifest is valid and every command it names imports."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_npe2_validate_passes():
    npe2 = shutil.which("npe2") or str(Path(sys.executable).with_name("npe2"))
    if not Path(npe2).exists():
        pytest.skip("npe2 command not installed")
    result = subprocess.run([npe2, "validate", "img2img", "--imports"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
