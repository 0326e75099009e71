"""GUI tests of the napari plugin: a real viewer on a virtual X server (pytest-xvfb starts Xvfb).

Where Qt cannot open a window (no Xvfb, missing X libraries) the tests are skipped with the
reason, except in CI, where that is a failure: the plugin must be tested there.
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("napari", reason="the napari extra is not installed (pip install -e '.[napari]')")

_PROBE = "from qtpy.QtWidgets import QApplication; QApplication([])"


def _qt_problem() -> str | None:
    if not os.environ.get("DISPLAY"):
        return "no X display (install Debian's xvfb so pytest-xvfb can start one)"
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        lines = (probe.stderr or "").strip().splitlines()
        return "Qt cannot start: " + (lines[0] if lines else f"exit code {probe.returncode}")
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "gui: needs a real napari viewer (Qt on an X display)")


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


@pytest.fixture
def errors(monkeypatch):
    """Every error notification the plugin shows."""
    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_error", shown.append)
    return shown


def pytest_collection_modifyitems(config, items):
    gui = [item for item in items if "tests/napari/test_widgets" in item.nodeid or "gui" in item.keywords]
    if not gui:
        return
    problem = _qt_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"napari GUI tests cannot run in CI: {problem}; see .ci/install-gui-packages")
    for item in gui:
        item.add_marker(pytest.mark.skip(reason=problem))
