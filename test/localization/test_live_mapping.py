"""Keyframes from a trusted pose source as the robot moves."""

from __future__ import annotations

import numpy as np

from loftr_ros.localization.live_mapping import LiveMapper
from loftr_ros.localization.tracking import CameraMount
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.transforms import make_transform

K = CameraIntrinsics(4, 4, 10.0, 10.0, 2.0, 2.0)
IMAGE = np.zeros((4, 4), np.uint8)


def at_x(x: float) -> np.ndarray:
    return make_transform(np.eye(3), np.array([x, 0.0, 0.0]))


def test_a_frame_becomes_a_keyframe_when_a_trusted_pose_is_near_in_time_and_it_moved_enough() -> None:
    mapper = LiveMapper(CameraMount(np.eye(4), publish_base=False), 0.25, 90.0, max_pose_gap_s=0.05)
    assert mapper.keyframe_for(0, IMAGE, K, None, "map") is None  # no pose yet
    for i in range(10):  # 10 cm apart, every 100 ms
        mapper.add_pose(i * 100_000_000, at_x(0.1 * i))
    made = [mapper.keyframe_for(i * 100_000_000 + 10_000_000, IMAGE, K, None, "map") for i in range(10)]
    kept = [k for k in made if k is not None]
    assert [round(k.T_map_camera[0, 3], 6) for k in kept] == [0.0, 0.3, 0.6, 0.9]
    assert kept[0].id == "mapped-10000000" and kept[0].frame_id == "map"
    assert mapper.keyframe_for(5_000_000_000, IMAGE, K, None, "map") is None  # no trusted pose within 50 ms


def test_poses_of_the_base_are_moved_to_the_camera() -> None:
    T_camera_base = make_transform(np.eye(3), np.array([0.0, 0.0, -0.2]))  # base 20 cm behind the camera
    mapper = LiveMapper(CameraMount(T_camera_base, publish_base=True), 0.0, 0.0, max_pose_gap_s=0.05)
    mapper.add_pose(0, at_x(1.0))
    keyframe = mapper.keyframe_for(0, IMAGE, K, None, "map")
    np.testing.assert_allclose(keyframe.T_map_camera[:3, 3], [1.0, 0.0, 0.2])
