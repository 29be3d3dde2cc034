# Entry points; each one sets the environment up first (a no-op when nothing changed).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# as in a sourced ROS 2 workspace: setup installs the package into the venv's prefix (kept if already set)
export AMENT_PREFIX_PATH ?= $(abspath $(VENV))

.PHONY: setup test test-all lint demo clean

setup:
	scripts/setup_env.sh

test: setup
	$(VENV)/bin/ruff check loftr_ros test scripts
	$(PYTHON) -m pytest

test-all: setup  # includes the long runs
	$(PYTHON) -m pytest --run-slow

demo: setup  # the localization demo: synthetic bag and map, the node over DDS with the shipped weights
	$(PYTHON) -m loftr_ros.cli demo --output out/demo --overwrite

lint: setup
	$(VENV)/bin/ruff check loftr_ros test scripts

clean:
	rm -rf build install log .pytest_cache
