"""The bag tools' command lines: help with defaults, clear refusals, import-tum on the real folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.data import SHARED_TUM

from loftr_ros import cli
from loftr_ros.bags import BagReader, topics

TUM = SHARED_TUM


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("replay", "--rate RATE           playback speed factor (default: 1.0)"),
        ("evaluate", "(default: loftr)"),
        ("make-bag", "(default: 320x240)"),  # as typed
        ("import-tum", "(default: 535.4 539.2 320.1 247.6)"),
    ],
)
def test_help_shows_defaults(command: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert expected in capsys.readouterr().out


def test_make_bag_refuses_to_overwrite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "bag").mkdir()
    assert cli.main(["make-bag", "--synthetic", "0", "--output", str(tmp_path / "bag")]) == 1
    assert "exists; delete it or choose another --output" in caplog.text
    with pytest.raises(SystemExit):
        cli.main(["make-bag", "--synthetic", "0", "--size", "320", "--output", str(tmp_path / "x")])


@pytest.mark.skipif(not (TUM / "groundtruth.txt").exists(), reason=f"TUM data not found at {TUM}")
def test_import_tum_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["import-tum", str(TUM), "--output", str(tmp_path / "bag"), "--map", str(tmp_path / "map.db"),
            "--keyframe-every", "12", "--max-queries", "2", "--storage", "mcap"]  # fmt: skip
    assert cli.main(argv) == 0
    assert f"Wrote {tmp_path / 'bag'} (mcap) and map {tmp_path / 'map.db'}" in capsys.readouterr().out
    with BagReader(tmp_path / "bag") as reader:
        assert reader.message_counts[topics.IMAGE_TOPIC] == 2
        assert reader.message_counts[topics.KEYFRAMES_TOPIC] == 1  # frame 0 has no ground truth; frame 12 has


def test_import_tum_without_keyframes_says_what_to_do(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if not (TUM / "groundtruth.txt").exists():
        pytest.skip(f"TUM data not found at {TUM}")
    argv = ["import-tum", str(TUM), "--output", str(tmp_path / "bag"), "--keyframe-every", "100"]
    assert cli.main(argv) == 1
    assert "lower --keyframe-every" in caplog.text


def test_make_bag_writes_drifting_odometry_for_every_frame(tmp_path: Path) -> None:
    from loftr_ros import conversions

    argv = ["make-bag", "--synthetic", "1", "--frames", "6", "--keyframe-every", "2", "--size", "64x48",
            "--odometry-drift", "0.05", "--output", str(tmp_path / "bag")]  # fmt: skip
    assert cli.main(argv) == 0
    with BagReader(tmp_path / "bag") as reader:
        assert reader.message_counts[topics.ODOM_TOPIC] == reader.message_counts[topics.GROUND_TRUTH_TOPIC] == 6
        odometry = [m.decode() for m in reader.messages([topics.ODOM_TOPIC])]
    assert odometry[0].header.frame_id == topics.ODOM_FRAME and odometry[0].child_frame_id == topics.CAMERA_FRAME
    assert conversions.pose_to_matrix(odometry[0].pose.pose) == pytest.approx(np.eye(4))  # odom starts at frame 0
