# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make demo   - installs into .venv, then synthesizes data, trains, segments, writes demo_output/report.md
#   make test   - installs into .venv (and, as root, the Debian packages of the GUI tests), then runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,napari,export,formats]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/img2img demo --output demo_output

test: install
	bash .ci/install-gui-packages
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo_output .pytest_cache
