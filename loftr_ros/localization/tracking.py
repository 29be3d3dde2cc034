"""What the localizer remembers between frames: the camera mount, priors, map->odom and the last fix.

The node hands over messages already converted; everything here is plain numpy and a lock, so callbacks
(initial pose, odometry, services) and the worker thread can share one :class:`Tracker` safely, and it is
tested without ROS.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from loftr_ros.errors import LoftrRosError
from loftr_ros.localization.types import CameraIntrinsics, Keyframe
from loftr_ros.transforms import invert_transform


def _skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


@dataclass(frozen=True)
class CameraMount:
    """Where the camera sits on the robot: the pose we publish is the camera's, or the base's through it."""

    T_camera_base: np.ndarray  # (4, 4): the base frame expressed in the camera frame
    publish_base: bool  # publish the base's pose (a base_frame is set) instead of the camera's

    def target_from_camera(self, T_map_camera: np.ndarray) -> np.ndarray:
        return T_map_camera @ self.T_camera_base if self.publish_base else T_map_camera

    def camera_from_target(self, T_map_target: np.ndarray) -> np.ndarray:
        return T_map_target @ invert_transform(self.T_camera_base) if self.publish_base else T_map_target

    def target_covariance(self, T_map_camera: np.ndarray, covariance: np.ndarray | None) -> np.ndarray | None:
        """The base pose's 6x6 covariance: the camera's carried along the lever arm.

        Rotations are perturbed in the map frame, so a small rotation dtheta of the camera moves the base by
        dtheta x lever, where lever is the camera-to-base offset in the map frame.
        """
        if covariance is None or not self.publish_base:
            return covariance
        lever = T_map_camera[:3, :3] @ self.T_camera_base[:3, 3]
        J = np.eye(6)
        J[:3, 3:] = -_skew(lever)
        return J @ covariance @ J.T


@dataclass(frozen=True)
class Fix:
    """A localized frame, kept so that an operator can add it to the map as a keyframe."""

    stamp_ns: int
    image: np.ndarray
    intrinsics: CameraIntrinsics
    T_map_camera: np.ndarray
    depth: np.ndarray | None


class Tracker:
    """Priors for the next frame and map->odom from the last fix; safe to share between threads.

    A prior comes from the operator's initial pose while it is younger than the timeout, else from odometry
    chained through the last map->odom (REP-105), if an odometry stamp lies within the timeout of the frame.
    """

    def __init__(self, mount: CameraMount, odometry_history: int = 200, max_odometry_gap_s: float = 0.1) -> None:
        self.mount = mount
        self.max_odometry_gap_ns = int(max_odometry_gap_s * 1e9)
        self._lock = threading.Lock()
        self._initial: tuple[np.ndarray, float] | None = None  # (T_map_camera, received at, monotonic s)
        self._odometry: deque[tuple[int, np.ndarray]] = deque(maxlen=odometry_history)  # (stamp_ns, T_odom_base)
        self._T_map_odom: np.ndarray | None = None
        self._last_fix: Fix | None = None

    def set_initial_pose(self, T_map_target: np.ndarray, now_s: float) -> None:
        with self._lock:
            self._initial = (self.mount.camera_from_target(T_map_target), now_s)

    def add_odometry(self, stamp_ns: int, T_odom_base: np.ndarray) -> None:
        with self._lock:
            self._odometry.append((stamp_ns, T_odom_base))

    def _nearest_odometry(self, stamp_ns: int) -> tuple[int, np.ndarray] | None:
        if not self._odometry:
            return None
        return min(self._odometry, key=lambda o: abs(o[0] - stamp_ns))

    def prior(self, stamp_ns: int, now_s: float, timeout_s: float) -> np.ndarray | None:
        """The prior T_map_camera for a frame stamped ``stamp_ns``, or None (``timeout_s`` 0 = never)."""
        if timeout_s <= 0:
            return None
        with self._lock:
            if self._initial is not None and now_s - self._initial[1] <= timeout_s:
                return self._initial[0]
            nearest = self._nearest_odometry(stamp_ns)
            if self._T_map_odom is None or nearest is None or abs(nearest[0] - stamp_ns) > timeout_s * 1e9:
                return None
            return self.mount.camera_from_target(self._T_map_odom @ nearest[1])

    def record_fix(self, fix: Fix) -> np.ndarray | None:
        """Remember a localized frame; returns the new map->odom when odometry is close enough in time."""
        T_map_base = self.mount.target_from_camera(fix.T_map_camera)
        with self._lock:
            self._last_fix = fix
            nearest = self._nearest_odometry(fix.stamp_ns)
            if nearest is None or abs(nearest[0] - fix.stamp_ns) > self.max_odometry_gap_ns:
                return None
            self._T_map_odom = T_map_base @ invert_transform(nearest[1])
            return self._T_map_odom

    def keyframe_from_last_fix(self, map_frame: str) -> Keyframe:
        """The last localized frame as a keyframe; LoftrRosError says why when there is none to add."""
        with self._lock:
            fix = self._last_fix
        if fix is None:
            raise LoftrRosError("no localized frame yet: a keyframe needs a pose")
        if fix.depth is None:
            raise LoftrRosError("the last localized frame has no depth (set use_depth and publish `depth`)")
        return Keyframe(id=f"live-{fix.stamp_ns}", stamp_ns=fix.stamp_ns, frame_id=map_frame, image=fix.image,
                        intrinsics=fix.intrinsics, T_map_camera=fix.T_map_camera, depth=fix.depth)  # fmt: skip
