"""Summary, CSV, JSON and figures of hand-made frame records."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from loftr_ros.evaluation import plots
from loftr_ros.evaluation.report import FrameRecord, format_summary, summarize, write_csv, write_json


def _pose(x: float, y: float = 0.0) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = (x, y, 1.5)
    return T


@pytest.fixture
def records() -> list[FrameRecord]:
    out = []
    for i in range(6):
        T_gt = _pose(0.5 * i)
        T_est = (
            None if i == 2 else _pose(0.5 * i, 0.02 if i != 4 else 0.2)
        )  # frame 2 fails, frame 4 is 20 cm off
        state = "NOT_LOCALIZED" if T_est is None else "LOCALIZED"
        timings = {"retrieve": 0.001, "match": 0.1 + 0.01 * i, "pose": 0.02}
        out.append(FrameRecord(i, 1_000 + i, state, "too few inliers" if T_est is None else "", T_est, T_gt,
                               100, 50, 0.5, ["kf0"], timings))  # fmt: skip
    out.append(FrameRecord(6, 2_000, "LOCALIZED", "", _pose(9.0), None))  # no ground truth: not scored
    return out


def test_summary_counts_failures_as_misses(records: list[FrameRecord]) -> None:
    a = summarize(records)["accuracy"]
    assert (a["frames"], a["localized"], a["with_ground_truth"]) == (7, 6, 6)
    assert a["success_rate"] == pytest.approx(6 / 7)
    assert a["within"] == {"5cm_2deg": pytest.approx(4 / 6), "10cm_5deg": pytest.approx(4 / 6)}
    assert a["ate_rmse_m"] == pytest.approx(math.sqrt((4 * 0.02**2 + 0.2**2) / 5))
    assert a["rpe"]["pairs"] == 4  # consecutive scored frames: 0-1, 1-3, 3-4, 4-5
    assert a["rpe"]["translation_rmse_m"] == pytest.approx(math.sqrt(2 * 0.18**2 / 4))
    assert a["states"] == {"LOCALIZED": 6, "NOT_LOCALIZED": 1}
    assert "WITHOUT alignment" in a["note"]
    assert "ATE (no alignment)" in format_summary(summarize(records))


def test_csv_and_json(tmp_path: Path, records: list[FrameRecord]) -> None:
    write_csv(records, tmp_path / "frames.csv")
    rows = list(csv.DictReader((tmp_path / "frames.csv").open()))
    assert len(rows) == 7
    assert (
        rows[2]["state"] == "NOT_LOCALIZED"
        and rows[2]["est_x"] == ""
        and rows[2]["translation_error_m"] == ""
    )
    assert float(rows[4]["translation_error_m"]) == pytest.approx(0.2)
    assert float(rows[4]["est_qw"]) == pytest.approx(1.0)
    assert rows[0]["timings"] == "retrieve=0.001000 match=0.100000 pose=0.020000"
    summary = summarize(records[2:3])  # one failure: every error statistic is NaN
    write_json(summary, tmp_path / "summary.json")
    loaded = json.loads((tmp_path / "summary.json").read_text())  # strict JSON: NaN became null
    assert loaded["accuracy"]["ate_rmse_m"] is None
    assert loaded["accuracy"]["translation_error_m"]["p50"] is None


def test_figures_are_written(tmp_path: Path, records: list[FrameRecord]) -> None:
    plots.plot_trajectory(records, tmp_path / "trajectory.png")
    plots.plot_errors(records, tmp_path / "errors.png")
    tiles = [np.full((40, 100, 3), 50 * i, np.uint8) for i in range(3)]
    plots.montage(tiles, tmp_path / "matches.png", columns=2, width=200)
    for name in ("trajectory.png", "errors.png"):
        assert cv2.imread(str(tmp_path / name)) is not None
    montage = cv2.imread(str(tmp_path / "matches.png"))
    assert montage.shape == (80, 200, 3)
    assert montage[50, 10].tolist() == [100, 100, 100]  # third tile, second row
