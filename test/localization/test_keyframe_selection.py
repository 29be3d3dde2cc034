"""Keyframes chosen by travelled distance and rotation."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from loftr_ros.localization.keyframe_selection import select_by_motion
from loftr_ros.transforms import make_transform


def test_a_keyframe_each_time_the_camera_moved_or_turned_enough() -> None:
    poses = [make_transform(np.eye(3), np.array([0.1 * i, 0.0, 0.0])) for i in range(10)]  # 10 cm steps
    assert select_by_motion(poses, 0.25, 90.0) == [0, 3, 6, 9]
    assert select_by_motion(poses, 0.0, 0.0) == list(range(10))
    turning = [make_transform(Rotation.from_euler("z", 7 * i, degrees=True).as_matrix(), np.zeros(3))
               for i in range(10)]  # fmt: skip
    assert select_by_motion(turning, 1.0, 20.0) == [0, 3, 6, 9]  # 21 degrees each
