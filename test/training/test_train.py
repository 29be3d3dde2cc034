"""The training command runs the paper's supervision end to end, logs, plots, exports and resumes."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.loftr.weights import load_weights
from loftr_ros.training.train import TRAIN_PRESETS, train

SMOKE = dataclasses.replace(TRAIN_PRESETS["smoke"], steps=2, checkpoint_every=1, homography_ratio=0.5)


def test_training_writes_log_plot_checkpoint_and_weights(tmp_path: Path) -> None:
    weights = train(SMOKE, tmp_path / "run")
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert all(float(r["loss"]) > 0 and int(r["num_gt_matches"]) > 0 for r in rows)
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    state, config = load_weights(weights)
    assert config.backbone.initial_dim == 16 and all(torch.isfinite(v).all() for v in state.values())


def test_training_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    first = train(dataclasses.replace(SMOKE, steps=1), tmp_path / "first")
    (tmp_path / "second").mkdir()
    shutil.copy(tmp_path / "first" / "checkpoint.pt", tmp_path / "second" / "checkpoint.pt")
    second = train(SMOKE, tmp_path / "second")  # starts at step 1, trains step 2 only
    rows = list(csv.DictReader((tmp_path / "second" / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [2]
    assert torch.load(tmp_path / "second" / "checkpoint.pt", weights_only=True)["step"] == 2
    before, after = load_weights(first)[0], load_weights(second)[0]
    assert any(not torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(ConfigError, match="another configuration"):
        train(dataclasses.replace(SMOKE, lr=1.0), tmp_path / "second")
