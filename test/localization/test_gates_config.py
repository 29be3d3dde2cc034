"""Each quality gate fails with its own reason; configs refuse invalid values, naming the option."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from loftr_ros.errors import ConfigError
from loftr_ros.localization import gates
from loftr_ros.localization.config import (
    LocalizerConfig,
    PoseConfig,
    QualityGates,
    RetrievalConfig,
    StoreConfig,
)
from loftr_ros.transforms import so3_exp

G = QualityGates(
    min_matches=30, min_inliers=20, min_inlier_ratio=0.25, max_rmse_px=2.0, max_jump_m=0.5, max_jump_deg=10
)


def test_pose_gates_in_order() -> None:
    T = np.eye(4)
    assert gates.check_pose(100, 80, 1.0, T, G) == ""
    assert gates.check_pose(10, 10, 1.0, T, G).startswith(gates.TOO_FEW_MATCHES)
    assert gates.check_pose(100, 15, 1.0, T, G).startswith(gates.TOO_FEW_INLIERS)
    assert gates.check_pose(100, 24, 1.0, T, G) == "low inlier ratio: 0.24 < 0.25"
    assert gates.check_pose(100, 80, 2.5, T, G).startswith(gates.HIGH_RMSE)
    assert gates.check_pose(100, 80, float("nan"), T, G) == ""  # no residuals: gate skipped
    prior = np.eye(4)
    prior[0, 3] = 0.6
    assert gates.check_pose(100, 80, 1.0, T, G, prior).startswith(gates.JUMP_FROM_PRIOR)
    prior = np.eye(4)
    prior[:3, :3] = so3_exp([0, 0, np.deg2rad(15)])
    assert "15.0 deg" in gates.check_pose(100, 80, 1.0, T, G, prior)
    prior[:3, :3] = so3_exp([0, 0, np.deg2rad(5)])
    assert gates.check_pose(100, 80, 1.0, T, G, prior) == ""


def test_default_configs_are_valid_and_copies_do_not_share_state() -> None:
    config = LocalizerConfig()
    config.validate()
    other = replace(config, gates=replace(config.gates, min_inliers=50))
    assert config.gates.min_inliers == QualityGates().min_inliers and other.gates.min_inliers == 50


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (StoreConfig(synchronous="MAYBE"), "StoreConfig.synchronous"),
        (RetrievalConfig(top_k=0), "RetrievalConfig.top_k"),
        (PoseConfig(depth_interpolation="cubic"), "depth_interpolation"),
        (QualityGates(min_inliers=3), "min_inliers must be >= 6"),
        (LocalizerConfig(pose=PoseConfig(max_reprojection_error_px=0)), "max_reprojection_error_px"),
    ],
)
def test_invalid_values_name_the_option(config: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config.validate()  # type: ignore[attr-defined]
