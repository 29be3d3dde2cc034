"""Which frames of a recording become keyframes: enough motion since the last one kept."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loftr_ros.transforms import rotation_angle_deg


def moved_enough(last: np.ndarray, T: np.ndarray, min_distance_m: float, min_rotation_deg: float) -> bool:
    """Whether pose ``T`` is at least ``min_distance_m`` or ``min_rotation_deg`` away from ``last``."""
    moved = float(np.linalg.norm(T[:3, 3] - last[:3, 3]))
    return moved >= min_distance_m or rotation_angle_deg(last[:3, :3].T @ T[:3, :3]) >= min_rotation_deg


def select_by_motion(poses: Sequence[np.ndarray], min_distance_m: float, min_rotation_deg: float) -> list[int]:
    """Indices of the poses kept: the first, then each that moved at least ``min_distance_m`` or turned at least
    ``min_rotation_deg`` from the last one kept (both 0: every pose)."""
    kept: list[int] = []
    for i, T in enumerate(poses):
        if not kept or moved_enough(poses[kept[-1]], T, min_distance_m, min_rotation_deg):
            kept.append(i)
    return kept
