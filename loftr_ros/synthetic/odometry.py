"""Odometry for a rendered trajectory, as wheels or visual odometry would report it: it starts at the
first pose (the odometry frame's origin) and drifts with the distance travelled."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from loftr_ros.errors import ConfigError
from loftr_ros.transforms import invert_transform, make_transform, so3_exp


def drifting_odometry(
    poses: Sequence[np.ndarray], seed: int, drift: float = 0.02, rotation_drift_deg_per_m: float = 1.0
) -> list[np.ndarray]:
    """``T_odom_camera`` for each of ``poses`` (``T_map_camera``, in time order).

    Each step's motion is perturbed by a random error proportional to its length: ``drift`` metres and
    ``rotation_drift_deg_per_m`` degrees per metre travelled (RMS over the three axes). The same seed
    gives the same odometry.
    """
    if drift < 0 or rotation_drift_deg_per_m < 0:
        raise ConfigError(f"odometry drift must be >= 0, got {drift} m/m and {rotation_drift_deg_per_m} deg/m")
    rng = np.random.default_rng([seed, 29])
    odometry = [np.eye(4)] if len(poses) else []
    for previous, current in itertools.pairwise(poses):
        step = invert_transform(previous) @ current
        length = float(np.linalg.norm(step[:3, 3]))
        rotation_error = rng.normal(0, np.deg2rad(rotation_drift_deg_per_m) * length / np.sqrt(3), 3)
        error = make_transform(so3_exp(rotation_error), rng.normal(0, drift * length / np.sqrt(3), 3))
        odometry.append(odometry[-1] @ step @ error)
    return odometry
