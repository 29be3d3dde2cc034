"""Binned evaluation: pairs land in the right bins, each bin's AUC and counts come from its own pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loftr_ros import cli
from loftr_ros.training.binned_evaluation import (
    EvalPair,
    PairScore,
    bin_rows,
    markdown_table,
    paired_auc_difference,
)


def pair(rotation: float, overlap: float) -> EvalPair:
    return EvalPair("p", np.zeros((8, 8)), np.zeros((8, 8)), np.eye(3), np.eye(3), np.eye(4),
                    {"rotation (deg)": rotation, "overlap": overlap})  # fmt: skip


def test_pairs_fall_into_their_bins_and_scores_stay_per_method() -> None:
    pairs = [pair(5, 0.2), pair(20, 0.6), pair(50, 0.6)]
    scores = {
        "good": [PairScore(1.0, 100, 80), PairScore(2.0, 50, 40), PairScore(np.inf, 10, 0)],
        "bad": [PairScore(np.inf, 5, 0)] * 3,
    }
    rows = bin_rows(pairs, scores, {"rotation (deg)": (0, 15, 30, 60), "overlap": (0.1, 0.5, 0.9)})
    by = {(r.axis, r.label, r.method): r for r in rows}
    assert by[("rotation (deg)", "0-15", "good")].pairs == 1
    assert by[("rotation (deg)", "0-15", "good")].auc["auc@5"] == pytest.approx(0.9)  # error 1 deg
    assert by[("rotation (deg)", "30-60", "good")].auc["auc@20"] == 0.0  # its pair failed
    assert by[("overlap", "0.5-0.9", "good")].pairs == 2 and by[("overlap", "0.5-0.9", "good")].matches == 30
    assert by[("overlap", "0.5-0.9", "bad")].auc["auc@10"] == 0.0
    table = markdown_table(rows)
    assert "| rotation (deg) 0-15 | good | 1 | 90.0 |" in table


def test_paired_difference_separates_a_real_gap_from_a_few_pairs_crossing_the_threshold() -> None:
    def scores(errors: np.ndarray) -> list[PairScore]:
        return [PairScore(e, 0, 0) for e in errors]

    base = np.random.default_rng(1).uniform(0, 30, 100)
    clearly_better = paired_auc_difference(("a", scores(base / 3)), ("b", scores(base)))
    assert clearly_better.low > 0 and "better" in str(clearly_better)
    a_fails, b_fails = base.copy(), base.copy()
    a_fails[:2] = np.inf  # a loses two pairs, b three others: a draw of pairs can turn that round
    b_fails[2:5] = np.inf
    close = paired_auc_difference(("a", scores(a_fails)), ("b", scores(b_fails)))
    assert close.difference > 0 and close.low <= 0 <= close.high and "no clear difference" in str(close)
    same = paired_auc_difference(("a", scores(base)), ("b", scores(base)))
    assert same.difference == same.low == same.high == 0.0
    with pytest.raises(ValueError, match="same non-empty pairs"):
        paired_auc_difference(("a", [PairScore(1.0, 0, 0)]), ("b", []))


def test_evaluate_bins_command_writes_its_table(tmp_path: Path) -> None:
    argv = ["evaluate-bins", "--synthetic", "3", "--synthetic-size", "160x120", "--tum", "",
            "--weights", "shipped=", "--output", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 0
    rows = json.loads((tmp_path / "bins.json").read_text())
    assert {r["method"] for r in rows} == {"shipped", "SIFT"}
    everything = [r for r in rows if r["label"] == "all"]
    assert [r["pairs"] for r in everything] == [3, 3]
    assert "| synthetic all | shipped | 3 |" in (tmp_path / "bins.md").read_text()
    differences = json.loads((tmp_path / "differences.json").read_text())
    assert [(d["a"], d["b"]) for d in differences] == [("shipped", "SIFT")]
    assert "shipped - SIFT: AUC@10" in (tmp_path / "bins.md").read_text()
