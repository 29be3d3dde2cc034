"""The core's memory between frames: camera mount, priors, map->odom and keyframes from the last fix."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from loftr_ros.errors import LoftrRosError
from loftr_ros.localization.tracking import CameraMount, Fix, Tracker
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.transforms import invert_transform, make_transform

RNG = np.random.default_rng(3)


def random_pose(scale: float = 1.0) -> np.ndarray:
    return make_transform(Rotation.random(random_state=RNG).as_matrix(), RNG.normal(size=3) * scale)


def perturbed(T: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """T moved by delta = (dx dy dz, rx ry rz): translation and rotation in the map frame, as our covariances."""
    out = T.copy()
    out[:3, :3] = Rotation.from_rotvec(delta[3:]).as_matrix() @ T[:3, :3]
    out[:3, 3] = T[:3, 3] + delta[:3]
    return out


def pose_delta(T_from: np.ndarray, T_to: np.ndarray) -> np.ndarray:
    rotation = Rotation.from_matrix(T_to[:3, :3] @ T_from[:3, :3].T).as_rotvec()
    return np.concatenate([T_to[:3, 3] - T_from[:3, 3], rotation])


def test_base_covariance_is_the_camera_covariance_carried_along_the_lever_arm() -> None:
    mount = CameraMount(T_camera_base=random_pose(0.5), publish_base=True)
    T_map_camera = random_pose(3.0)
    T_map_base = mount.target_from_camera(T_map_camera)
    eps = 1e-6
    numeric = np.zeros((6, 6))
    for i in range(6):
        delta = np.zeros(6)
        delta[i] = eps
        numeric[:, i] = pose_delta(T_map_base, mount.target_from_camera(perturbed(T_map_camera, delta))) / eps
    A = RNG.normal(size=(6, 6))
    covariance = A @ A.T
    np.testing.assert_allclose(mount.target_covariance(T_map_camera, covariance), numeric @ covariance @ numeric.T,
                               rtol=1e-4, atol=1e-6)  # fmt: skip


def test_camera_mount_without_a_base_frame_publishes_the_camera() -> None:
    mount = CameraMount(T_camera_base=random_pose(), publish_base=False)
    T = random_pose()
    covariance = np.eye(6)
    assert mount.target_from_camera(T) is T and mount.camera_from_target(T) is T
    assert mount.target_covariance(T, covariance) is covariance
    with_base = CameraMount(T_camera_base=mount.T_camera_base, publish_base=True)
    np.testing.assert_allclose(with_base.camera_from_target(with_base.target_from_camera(T)), T, atol=1e-12)


def test_the_initial_pose_is_the_prior_until_it_times_out_then_odometry_through_the_last_fix() -> None:
    mount = CameraMount(T_camera_base=random_pose(0.3), publish_base=True)
    tracker = Tracker(mount)
    assert tracker.prior(0, now_s=0.0, timeout_s=5.0) is None
    T_map_base0 = random_pose()
    tracker.set_initial_pose(T_map_base0, now_s=100.0)
    np.testing.assert_allclose(tracker.prior(0, now_s=104.0, timeout_s=5.0), mount.camera_from_target(T_map_base0))
    assert tracker.prior(0, now_s=104.0, timeout_s=0.0) is None  # 0 = priors off
    assert tracker.prior(0, now_s=106.0, timeout_s=5.0) is None  # expired, and no map->odom yet

    T_odom_base = {stamp: random_pose() for stamp in (1_000_000_000, 2_000_000_000)}
    for stamp, T in T_odom_base.items():
        tracker.add_odometry(stamp, T)
    T_map_camera = random_pose()
    T_map_odom = tracker.record_fix(Fix(1_050_000_000, np.zeros((4, 4), np.uint8), intrinsics(), T_map_camera, None))
    expected = mount.target_from_camera(T_map_camera) @ invert_transform(T_odom_base[1_000_000_000])
    np.testing.assert_allclose(T_map_odom, expected, atol=1e-12)
    # the next frame, at the second odometry stamp: odometry chained through map->odom
    prior = tracker.prior(2_000_000_000, now_s=200.0, timeout_s=5.0)
    np.testing.assert_allclose(prior, mount.camera_from_target(expected @ T_odom_base[2_000_000_000]), atol=1e-12)
    assert tracker.prior(9_000_000_000, now_s=200.0, timeout_s=5.0) is None  # odometry 7 s away from the frame


def test_a_fix_far_in_time_from_odometry_leaves_map_to_odom_unchanged() -> None:
    tracker = Tracker(CameraMount(np.eye(4), publish_base=False), max_odometry_gap_s=0.1)
    assert tracker.record_fix(Fix(0, np.zeros((2, 2), np.uint8), intrinsics(), np.eye(4), None)) is None
    tracker.add_odometry(0, np.eye(4))
    assert tracker.record_fix(Fix(200_000_000, np.zeros((2, 2), np.uint8), intrinsics(), np.eye(4), None)) is None


def intrinsics() -> CameraIntrinsics:
    return CameraIntrinsics(fx=100.0, fy=100.0, cx=2.0, cy=2.0, width=4, height=4)


def test_the_last_fix_becomes_a_keyframe_only_with_depth() -> None:
    tracker = Tracker(CameraMount(np.eye(4), publish_base=False))
    with pytest.raises(LoftrRosError, match="no localized frame"):
        tracker.keyframe_from_last_fix("map")
    image = np.zeros((4, 4), np.uint8)
    tracker.record_fix(Fix(5, image, intrinsics(), np.eye(4), None))
    with pytest.raises(LoftrRosError, match="no depth"):
        tracker.keyframe_from_last_fix("map")
    T = random_pose()
    tracker.record_fix(Fix(7, image, intrinsics(), T, np.ones((4, 4), np.float32)))
    keyframe = tracker.keyframe_from_last_fix("map")
    assert (keyframe.id, keyframe.stamp_ns, keyframe.frame_id) == ("live-7", 7, "map")
    np.testing.assert_array_equal(keyframe.T_map_camera, T)


def test_odometry_written_by_one_thread_while_another_asks_for_priors() -> None:
    """The node's callbacks add odometry while its worker reads it: an unlocked deque raises 'mutated'."""
    tracker = Tracker(CameraMount(np.eye(4), publish_base=False), odometry_history=500)
    tracker.add_odometry(0, np.eye(4))
    tracker.record_fix(Fix(0, np.zeros((2, 2), np.uint8), intrinsics(), np.eye(4), None))
    errors: list[BaseException] = []

    def write() -> None:
        for i in range(30_000):
            tracker.add_odometry(i * 1000, np.eye(4))

    def read() -> None:
        try:
            for i in range(3_000):
                tracker.prior(i * 10_000, now_s=0.0, timeout_s=1.0)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
