"""Simulated odometry: exact without drift, drifting in proportion to the distance travelled."""

from __future__ import annotations

import numpy as np
import pytest

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.odometry import drifting_odometry
from loftr_ros.transforms import invert_transform, make_transform, pose_error, so3_exp


def _path(n: int = 50) -> list[np.ndarray]:
    """A camera moving 0.1 m per step (5 m in all) while it turns."""
    turns = [so3_exp(np.array([0.0, 0.02 * i, 0.0])) for i in range(n + 1)]
    return [make_transform(R, np.array([0.1 * i, 0.0, 1.0])) for i, R in enumerate(turns)]


def test_without_drift_odometry_is_the_motion_from_the_first_pose() -> None:
    poses = _path()
    odometry = drifting_odometry(poses, seed=0, drift=0.0, rotation_drift_deg_per_m=0.0)
    for T_odom, T_map in zip(odometry, poses, strict=True):
        np.testing.assert_allclose(T_odom, invert_transform(poses[0]) @ T_map, atol=1e-12)


def test_drift_matches_its_rate_and_repeats_for_a_seed() -> None:
    poses = _path()
    exact = [invert_transform(poses[0]) @ T for T in poses]
    finals = []
    for seed in range(40):
        odometry = drifting_odometry(poses, seed=seed, drift=0.02, rotation_drift_deg_per_m=0.0)
        finals.append(pose_error(odometry[-1], exact[-1])[0])
    # a random walk of 50 steps of 0.1 m with 2% error each: RMS sqrt(50) * 0.002 m
    assert np.sqrt(np.mean(np.square(finals))) == pytest.approx(np.sqrt(50) * 0.002, rel=0.3)
    again = drifting_odometry(poses, seed=3)
    np.testing.assert_array_equal(again[-1], drifting_odometry(poses, seed=3)[-1])
    with pytest.raises(ConfigError, match="drift must be >= 0"):
        drifting_odometry(poses, seed=0, drift=-0.1)
