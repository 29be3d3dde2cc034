"""Mapping while the robot moves: frames become keyframes, posed by a trusted source (e.g. the robot's SLAM).

The node feeds the trusted poses (of the camera, or of the base through the camera mount) and asks, for each
synchronised frame, whether it makes a keyframe: it does when a trusted pose lies close enough in time and
the camera has moved or turned enough since the last keyframe. Thread-safe; no ROS here.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from loftr_ros.localization.keyframe_selection import moved_enough
from loftr_ros.localization.tracking import CameraMount
from loftr_ros.localization.types import CameraIntrinsics, Keyframe


class LiveMapper:
    """Turns frames into keyframes with the trusted pose nearest in time, spaced by motion."""

    def __init__(
        self,
        mount: CameraMount,
        min_distance_m: float,
        min_rotation_deg: float,
        max_pose_gap_s: float,
        history: int = 400,
    ) -> None:
        self.mount = mount
        self._lock = threading.Lock()
        self.reconfigure(min_distance_m, min_rotation_deg, max_pose_gap_s)
        self._poses: deque[tuple[int, np.ndarray]] = deque(maxlen=history)  # (stamp_ns, T_map_camera)
        self._last_keyframe: np.ndarray | None = None  # T_map_camera of the last keyframe made

    def reconfigure(self, min_distance_m: float, min_rotation_deg: float, max_pose_gap_s: float) -> None:
        with self._lock:
            self.min_distance_m, self.min_rotation_deg = min_distance_m, min_rotation_deg
            self.max_pose_gap_ns = int(max_pose_gap_s * 1e9)

    def add_pose(self, stamp_ns: int, T_map_target: np.ndarray) -> None:
        """A trusted pose of the published frame (the camera's, or base_frame's) in the map frame."""
        with self._lock:
            self._poses.append((stamp_ns, self.mount.camera_from_target(T_map_target)))

    def keyframe_for(
        self,
        stamp_ns: int,
        image: np.ndarray,
        intrinsics: CameraIntrinsics,
        depth: np.ndarray | None,
        map_frame: str,
    ) -> Keyframe | None:
        """The frame as a keyframe, or None: no trusted pose near its stamp, or too close to the last keyframe."""
        with self._lock:
            if not self._poses:
                return None
            pose_stamp, T_map_camera = min(self._poses, key=lambda p: abs(p[0] - stamp_ns))
            if abs(pose_stamp - stamp_ns) > self.max_pose_gap_ns:
                return None
            last = self._last_keyframe
            if last is not None and not moved_enough(last, T_map_camera, self.min_distance_m, self.min_rotation_deg):
                return None
            self._last_keyframe = T_map_camera
        return Keyframe(f"mapped-{stamp_ns}", stamp_ns, map_frame, image, intrinsics, T_map_camera, depth)
