"""Suite-wide options: long runs behind ``--run-slow``, CUDA tests skipped without a GPU, and the ROS 2
launch stack's pytest plugins made harmless to the rest of the suite."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deadline(seconds): a launch test's own timeout (test/launch)")
    # launch_pytest, loaded as a plugin wherever it is installed, imports `launch`, which makes every logger
    # created afterwards a non-propagating LaunchLogger: our modules' logs would never reach caplog.
    if "launch" in sys.modules:
        logging.setLoggerClass(logging.Logger)
    # As in a sourced workspace: the venv is the install prefix that scripts/setup_env.sh builds into.
    if not os.environ.get("AMENT_PREFIX_PATH") and (
        Path(sys.prefix) / "share" / "ament_index" / "resource_index" / "packages" / "loftr_ros"
    ).exists():
        os.environ["AMENT_PREFIX_PATH"] = sys.prefix


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--run-slow")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip_slow = pytest.mark.skip(reason="long run: enable with --run-slow")
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU; none is available on this machine")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
