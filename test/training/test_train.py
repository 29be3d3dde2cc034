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


def test_finetune_on_a_keyframe_map(tmp_path: Path) -> None:
    from loftr_ros.bags.sources import write_map
    from loftr_ros.localization.types import Keyframe
    from loftr_ros.synthetic.pairs import PairConfig, make_sequence
    from loftr_ros.training.map_pairs import MapPairDataset, MapPairsConfig

    sequence = make_sequence(2, n_frames=8, keyframe_every=1, config=PairConfig(width=160, height=120, nuisances=False))
    keyframes = [
        Keyframe(f"kf{i}", i, "map", v.image, v.intrinsics, v.T_world_camera, v.depth)
        for i, v in enumerate(sequence.keyframes)
    ]
    write_map(keyframes, tmp_path / "map.db")
    pairs = MapPairDataset(tmp_path / "map.db", MapPairsConfig(width=320, height=240, max_distance_m=5.0))
    item = pairs[0]
    assert item["image0"].shape == (1, 240, 320) and float(item["depth0"].max()) > 0
    start = train(SMOKE, tmp_path / "scratch")
    tuned = train(dataclasses.replace(SMOKE, model="finetune"), tmp_path / "tuned", dataset=pairs, init_weights=start)
    rows = list(csv.DictReader((tmp_path / "tuned" / "log.csv").open()))
    assert len(rows) == 2 and all(int(r["num_gt_matches"]) > 0 for r in rows)
    assert load_weights(tuned)[1] == load_weights(start)[1]  # same architecture as the starting weights


def test_time_limit_stops_checkpoints_and_exports_half_precision(tmp_path: Path) -> None:
    config = dataclasses.replace(SMOKE, steps=1000, time_limit_s=1e-3, checkpoint_every=1000)
    weights = train(config, tmp_path / "run")
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 1 and state["elapsed_s"] > 0  # stopped after its first step, and saved it
    exported, _ = load_weights(weights)
    assert all(v.dtype == torch.float16 for v in exported.values() if v.is_floating_point())
    # how long a run may take is not what it learns: a resumed run may change it, but not the learning rate
    train(dataclasses.replace(config, time_limit_s=2e-3), tmp_path / "run")
    with pytest.raises(ConfigError, match="another configuration"):
        train(dataclasses.replace(config, lr=1.0), tmp_path / "run")


def test_learning_rate_decays_over_the_time_limit() -> None:
    from loftr_ros.training.train import _learning_rate

    config = dataclasses.replace(SMOKE, steps=10_000, warmup_steps=1, time_limit_s=100.0, lr=1.0, lr_min_ratio=0.05)
    assert _learning_rate(config, 5, elapsed_s=0.0) == pytest.approx(1.0, abs=1e-3)
    assert _learning_rate(config, 5, elapsed_s=50.0) == pytest.approx(0.525, abs=1e-3)
    assert _learning_rate(config, 5, elapsed_s=100.0) == pytest.approx(0.05)


def test_relocalization_data_trains(tmp_path: Path) -> None:
    config = dataclasses.replace(SMOKE, data="relocalization", steps=1)
    train(config, tmp_path / "run")
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert int(rows[0]["num_gt_matches"]) > 0
