"""The README's main command, at reduced size: bag and map, the node over DDS, recorded poses, evaluation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from loftr_ros.cli import main


def test_demo_runs_the_whole_pipeline_over_dds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_DOMAIN_ID", str(50 + os.getpid() % 50))
    size = ["--frames", "12", "--size", "160x120", "--max-side", "0"]  # the network sees 160x120 as recorded
    code = main(["demo", "--output", str(tmp_path), *size, "--fps", "2", "--timeout", "180"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["accuracy"]["frames"] == 6  # every query image is accounted for, dropped or not
    for name in ("poses.bag", "frames.csv", "trajectory.png", "errors.png", "node.log"):
        assert (tmp_path / name).exists(), name
    assert code == 0, f"no frame localized: {summary['accuracy']}"
