"""The README's main command, as installed (the `loftr-ros` console script), from a temporary directory and at
reduced size: bag and map, the node over DDS, recorded poses, evaluation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("frames", [4, 12])
def test_installed_demo_runs_the_whole_pipeline_from_any_directory(tmp_path: Path, frames: int) -> None:
    command = shutil.which("loftr-ros", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the loftr-ros console script is not installed (scripts/setup_env.sh installs it)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed package, not the checkout
    env["ROS_DOMAIN_ID"] = str(50 + frames + os.getpid() % 40)
    size = ["--frames", str(frames), "--size", "160x120", "--max-side", "0"]  # the network sees 160x120
    done = subprocess.run([command, "demo", *size, "--fps", "2", "--timeout", "180"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    out = tmp_path / "out" / "demo"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["accuracy"]["frames"] == frames // 2, done.stdout[-2000:]  # every query image accounted for
    for name in ("poses.bag", "frames.csv", "trajectory.png", "errors.png", "node.log", "params.yaml"):
        assert (out / name).exists(), name
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    if frames >= 12:  # with 4, the loop through the room leaves neighbours 90 degrees apart: nothing to localize
        assert done.returncode == 0, f"no frame localized: {summary['accuracy']}\n{done.stderr[-3000:]}"
