"""Keyframes from a robot's recording: a rosbag2 bag's images, camera_info, optional depth and poses.

Messages are decoded as rclpy messages (:mod:`loftr_ros.bags.reader`, ROS 2 Kilted's types) and converted
by :mod:`loftr_ros.conversions`, the one place of conversion; this is the project's one rosbag import path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Odometry

from loftr_ros import conversions
from loftr_ros.bags.reader import BagReader
from loftr_ros.errors import ConversionError, MapError
from loftr_ros.localization.io import Trajectory, nearest_stamp
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

logger = logging.getLogger(__name__)

Describe = Callable[[np.ndarray], np.ndarray]


def _pose(msg: PoseStamped | PoseWithCovarianceStamped | Odometry) -> np.ndarray:
    """T_frame_X of a PoseStamped, or of a PoseWithCovarianceStamped / Odometry (``pose.pose``)."""
    return conversions.pose_to_matrix(msg.pose if isinstance(msg, PoseStamped) else msg.pose.pose)


def import_rosbag(
    store: KeyframeStore,
    bag: str | os.PathLike[str],
    image_topic: str,
    camera_info_topic: str,
    pose_topic: str,
    depth_topic: str | None = None,
    *,
    max_dt_ns: int = 20_000_000,
    max_pose_gap_ns: int = 200_000_000,
    T_pose_camera: np.ndarray | None = None,
    every: int = 1,
    describe: Describe | None = None,
) -> int:
    """Add keyframes from a ROS 2 bag; returns the count.

    Each image is paired with the latest CameraInfo, the pose interpolated at its header stamp (no
    extrapolation; images between poses more than ``max_pose_gap_ns`` apart are skipped) and the depth image
    with the nearest stamp within ``max_dt_ns``. The pose topic (PoseStamped, PoseWithCovarianceStamped or
    Odometry) gives T_map_X in its ``header.frame_id`` (the keyframe's frame_id); ``T_pose_camera`` (default
    identity) maps the camera optical frame into X.
    """
    extrinsic = np.eye(4) if T_pose_camera is None else np.asarray(T_pose_camera, dtype=np.float64)
    wanted = [image_topic, camera_info_topic, pose_topic] + ([depth_topic] if depth_topic else [])
    infos: list[tuple[int, CameraIntrinsics]] = []
    pose_stamps, poses, pose_frames = [], [], []
    depths: list[tuple[int, np.ndarray]] = []
    images: list[tuple[int, np.ndarray]] = []
    with BagReader(bag) as reader:
        reader.require(wanted)
        for message in reader.messages(wanted):
            msg = message.decode()
            stamp = conversions.stamp_to_ns(msg.header.stamp)
            try:
                if message.topic == camera_info_topic:
                    infos.append((stamp, conversions.camera_info_to_intrinsics(msg)))
                elif message.topic == pose_topic:
                    pose_stamps.append(stamp)
                    poses.append(_pose(msg))
                    pose_frames.append(msg.header.frame_id)
                elif message.topic == depth_topic:
                    depths.append((stamp, conversions.depth_to_metres(msg)))
                else:
                    images.append((stamp, conversions.image_for_matching(msg)))
            except ConversionError as error:
                raise MapError(f"bag {bag}, {message.topic} at {stamp} ns: {error}") from None
    if not pose_stamps or not infos:
        raise MapError(f"bag {bag} has no poses on {pose_topic} or no CameraInfo on {camera_info_topic}")
    trajectory = Trajectory(np.array(pose_stamps), np.stack(poses))
    frame = pose_frames[0] or "map"
    info_stamps = np.array([s for s, _ in infos])
    depth_stamps = np.array([s for s, _ in depths], dtype=np.int64)
    count = 0
    for stamp, image in sorted(images, key=lambda x: x[0])[::every]:
        T = trajectory.at(stamp, max_gap_ns=max_pose_gap_ns)
        if T is None:
            continue
        K = infos[max(0, int(np.searchsorted(info_stamps, stamp, side="right")) - 1)][1]
        depth = None
        if len(depth_stamps):
            j = nearest_stamp(depth_stamps, stamp)
            if abs(int(depth_stamps[j]) - stamp) <= max_dt_ns:
                depth = depths[j][1]
        descriptor = np.asarray(describe(image), dtype=np.float32) if describe is not None else None
        store.add(Keyframe(f"{stamp}", stamp, frame, image, K, T @ extrinsic, depth, descriptor))
        count += 1
    logger.info("imported %d of %d images from %s into %s", count, len(images), bag, store.path)
    return count
