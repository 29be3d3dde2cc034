"""The node as its own process, started as the launch file starts it: the DDS tests' one way to run it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_node(folder: Path, overrides: str, domain_id: int, *ros_args: str) -> Iterator[subprocess.Popen]:
    """The node with the shipped parameter file plus ``overrides`` (YAML), on DDS domain ``domain_id`` (this
    process joins it too); its log tail is printed at the end, which pytest shows when a test failed."""
    override = folder / "overrides.yaml"
    override.write_text(overrides)
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain_id), PYTHONPATH=str(ROOT))
    os.environ["ROS_DOMAIN_ID"] = env["ROS_DOMAIN_ID"]
    command = [sys.executable, "-m", "loftr_ros.node", "--ros-args", "--params-file",
               str(ROOT / "config" / "loftr_localizer.yaml"), "--params-file", str(override), *ros_args]  # fmt: skip
    with (folder / "node.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    print((folder / "node.log").read_text()[-4000:])
