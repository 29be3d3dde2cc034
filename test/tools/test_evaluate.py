"""``loftr-ros make-bag`` then ``loftr-ros evaluate`` end to end, with SIFT, on a tiny synthetic bag."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest

from loftr_ros import cli
from loftr_ros.localization.store import KeyframeStore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("evaluate")
    argv = [
        "make-bag", "--synthetic", "1", "--frames", "24", "--keyframe-every", "2", "--size", "160x120",
        "--output", str(folder / "bag"), "--map", str(folder / "map.db"), "--storage", "mcap",
    ]  # fmt: skip
    assert cli.main(argv) == 0
    return folder / "bag", folder / "map.db"


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)):
            out[prefix + key] = value
    return out


def _evaluate(bag: Path, output: Path, *extra: str) -> dict:
    argv = [
        "evaluate",
        "--bag",
        str(bag),
        "--matcher",
        "sift",
        "--seed",
        "7",
        "--output",
        str(output),
        *extra,
    ]
    assert cli.main(argv) == 0
    return json.loads((output / "summary.json").read_text())


def test_evaluate_writes_every_output_and_repeats_exactly(
    bag: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag_path, map_path = bag
    first = _evaluate(bag_path, tmp_path / "a")
    printed = capsys.readouterr().out
    assert "Localized 12 of 12 frames (sift)" in printed and "ATE (no alignment)" in printed
    for name in ("frames.csv", "summary.json", "trajectory.png", "errors.png", "matches.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    assert cv2.imread(str(tmp_path / "a" / "matches.png")).shape[1] == 2 * 160  # full resolution: both images
    rows = list(csv.DictReader((tmp_path / "a" / "frames.csv").open()))
    assert len(rows) == 12
    accuracy = first["accuracy"]
    assert accuracy["frames"] == accuracy["with_ground_truth"] == 12
    # 12 queries, each next to a keyframe with exact depth: SIFT localizes most of them to centimetres
    assert accuracy["localized"] >= 8
    assert accuracy["within"]["10cm_5deg"] >= 0.6
    assert accuracy["translation_error_m"]["p50"] < 0.03
    assert set(first["latency_s"]) >= {"retrieve", "match", "pose", "total"}
    assert first["config"]["top_k"] == 12  # SIFT has no global descriptor: every keyframe is matched

    # same seed, same numbers (latency is wall time and may differ)
    second = _evaluate(bag_path, tmp_path / "b")
    assert second["accuracy"] == first["accuracy"]
    assert second["config"] == first["config"]
    rows_b = list(csv.DictReader((tmp_path / "b" / "frames.csv").open()))
    assert [{k: v for k, v in r.items() if k != "timings"} for r in rows_b] == [
        {k: v for k, v in r.items() if k != "timings"} for r in rows
    ]
    # the map written beside the bag holds the same keyframes (lossless images and depth; the bag's
    # poses went through a quaternion, the map's did not): the same results up to rounding
    from_map = _evaluate(bag_path, tmp_path / "c", "--map", str(map_path))
    assert _flat(from_map["accuracy"]) == pytest.approx(_flat(first["accuracy"]), rel=1e-6, abs=1e-9)
    assert from_map["config"]["map"] == str(map_path)


def test_evaluate_explains_a_bag_without_keyframes(
    bag: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bag_path, _ = bag
    argv = ["evaluate", "--bag", str(bag_path), "--matcher", "sift", "--output", str(tmp_path),
            "--keyframes-topic", "/nothing"]  # fmt: skip
    assert cli.main(argv) == 1
    assert "has no /nothing: pass --map MAP.db" in caplog.text


def test_benchmark_defaults_prints_one_row_per_setting(tmp_path: Path, bag: tuple[Path, Path]) -> None:
    bag_path, map_path = bag
    argv = ["benchmark-defaults", "--sides", "160", "--top-k", "1", "--seeds", "0", "--queries", "2",
            "--camera", "160x120", "--tum-bag", str(bag_path), "--tum-map", str(map_path),
            "--output", str(tmp_path / "defaults.md")]  # fmt: skip
    assert cli.main(argv) == 0
    rows = [line for line in (tmp_path / "defaults.md").read_text().splitlines() if line.startswith("| 160")]
    assert [row.split("|")[3].strip() for row in rows] == ["on", "off"]
    assert all(len(row.split("|")) == 11 for row in rows)  # the TUM-like bag's columns filled too


def test_benchmark_map_reports_memory_and_latency_per_map_size(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["benchmark-map", "--sizes", "12", "30", "--queries", "3", "--camera", "160x120",
            "--output", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 0
    rows = [line.split("|")[1:-1] for line in capsys.readouterr().out.splitlines() if line.startswith("| 12 |")
            or line.startswith("| 30 |")]  # fmt: skip
    assert [int(row[0]) for row in rows] == [12, 30]
    for row in rows:
        peak_mb, cache_mb = float(row[8]), float(row[10])
        assert 0 < peak_mb < 4000 and 0 <= cache_mb <= 512
    with KeyframeStore(tmp_path / "map.db", readonly=True) as store:
        assert len(store.ids()) == 30 and len({info.T_map_camera[0, 3] for info in store.list()}) > 1


def test_evaluate_refuses_a_used_folder_unless_overwrite_and_leaves_nothing_stale(
    bag: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag_path, map_path = bag
    out = tmp_path / "out"
    out.mkdir()
    (out / "old_frames.csv").write_text("from an earlier run")
    argv = ["evaluate", "--bag", str(bag_path), "--map", str(map_path), "--matcher", "sift", "--max-frames", "2",
            "--output", str(out)]  # fmt: skip
    assert cli.main(argv) == 1 and (out / "old_frames.csv").exists()  # refused, untouched
    assert cli.main([*argv, "--overwrite"]) == 0
    assert {"errors.png", "frames.csv", "summary.json"} <= {p.name for p in out.iterdir()}
    assert not (out / "old_frames.csv").exists() and not list(tmp_path.glob(".out.partial-*"))
    text = capsys.readouterr().out
    assert "of the 2 frames with ground truth" in text and "nan" not in text

    no_truth = tmp_path / "no_truth"
    assert cli.main([*argv[:-1], str(no_truth), "--ground-truth-topic", "/none"]) == 0
    text = capsys.readouterr().out
    assert "no ground truth: accuracy not measured" in text and "nan" not in text
