"""Keyframes from a robot's recording: a rosbag2 bag's images, camera_info, optional depth and poses.

Messages are decoded as rclpy messages (:mod:`loftr_ros.bags.reader`, ROS 2 Kilted's types) and converted
by :mod:`loftr_ros.conversions`, the one place of conversion; this is the project's one rosbag import path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import numpy as np
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Odometry

from loftr_ros import conversions
from loftr_ros.bags.reader import BagReader
from loftr_ros.bags.tf_poses import tf_trajectory
from loftr_ros.errors import ConversionError, MapError
from loftr_ros.localization.io import Trajectory, nearest_stamp
from loftr_ros.localization.keyframe_selection import select_by_motion
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

logger = logging.getLogger(__name__)

Describe = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[Iterable[Any]], Iterator[Any]]  # e.g. tqdm
T = TypeVar("T")


def _pose(msg: PoseStamped | PoseWithCovarianceStamped | Odometry) -> np.ndarray:
    """T_frame_X of a PoseStamped, or of a PoseWithCovarianceStamped / Odometry (``pose.pose``)."""
    return conversions.pose_to_matrix(msg.pose if isinstance(msg, PoseStamped) else msg.pose.pose)


def import_rosbag(
    store: KeyframeStore,
    bag: str | os.PathLike[str],
    image_topic: str,
    camera_info_topic: str,
    pose_topic: str | None,
    depth_topic: str | None = None,
    *,
    tf_frames: tuple[str, str] | None = None,
    max_dt_ns: int = 20_000_000,
    max_pose_gap_ns: int = 200_000_000,
    T_pose_camera: np.ndarray | None = None,
    min_distance_m: float = 0.0,
    min_rotation_deg: float = 0.0,
    describe: Describe | None = None,
    progress: Progress = iter,
) -> int:
    """Add keyframes from a ROS 2 bag; returns the count.

    Each image is paired with the latest CameraInfo, the pose interpolated at its header stamp (no
    extrapolation; images between poses more than ``max_pose_gap_ns`` apart are skipped) and the depth image
    with the nearest stamp within ``max_dt_ns``. The pose topic (PoseStamped, PoseWithCovarianceStamped or
    Odometry) gives T_map_X in its ``header.frame_id`` (the keyframe's frame_id); or, instead of a topic,
    ``tf_frames`` (map, X) names the frames whose chain in the bag's /tf and /tf_static gives T_map_X.
    ``T_pose_camera`` (default identity) maps the camera optical frame into X. An image becomes a keyframe
    once the camera moved ``min_distance_m`` or turned ``min_rotation_deg`` since the last one (0 and 0:
    every posed image). Two passes over the bag: poses and stamps first, then only the chosen images.
    """
    extrinsic = np.eye(4) if T_pose_camera is None else np.asarray(T_pose_camera, dtype=np.float64)
    infos: list[tuple[int, CameraIntrinsics]] = []
    pose_stamps, poses, pose_frames = [], [], []
    image_stamps: list[int] = []
    depth_stamps: list[int] = []
    if (pose_topic is None) == (tf_frames is None):
        raise MapError("give either a pose topic or the tf frames (map frame, posed frame)")
    with BagReader(bag) as reader:
        wanted = [camera_info_topic, image_topic] + [t for t in (pose_topic, depth_topic) if t]
        reader.require(wanted)
        for message in reader.messages(wanted):
            msg = message.decode()
            stamp = conversions.stamp_to_ns(msg.header.stamp)
            if message.topic == camera_info_topic:
                infos.append((stamp, _converted(conversions.camera_info_to_intrinsics, msg, bag, message.topic)))
            elif message.topic == pose_topic:
                pose_stamps.append(stamp)
                poses.append(_converted(_pose, msg, bag, message.topic))
                pose_frames.append(msg.header.frame_id)
            elif message.topic == image_topic:
                image_stamps.append(stamp)
            else:
                depth_stamps.append(stamp)
        if tf_frames is not None:
            trajectory = tf_trajectory(reader, *tf_frames, max_gap_ns=max_pose_gap_ns)
            pose_frames = [tf_frames[0]]
        elif pose_stamps:
            trajectory = Trajectory(np.array(pose_stamps), np.stack(poses))
        if not infos or (tf_frames is None and not pose_stamps):
            raise MapError(f"bag {bag} has no poses on {pose_topic} or no CameraInfo on {camera_info_topic}")
        posed = [(s, T @ extrinsic) for s in sorted(image_stamps) if (T := trajectory.at(s, max_gap_ns=max_pose_gap_ns))
                 is not None]  # fmt: skip
        chosen = {posed[i][0]: posed[i][1] for i in select_by_motion([T for _, T in posed], min_distance_m,
                                                                        min_rotation_deg)}  # fmt: skip
        depth_of: dict[int, int] = {}  # chosen image stamp -> the depth stamp paired with it
        if depth_stamps:
            sorted_depth = np.array(sorted(depth_stamps), dtype=np.int64)
            for stamp in chosen:
                nearest = int(sorted_depth[nearest_stamp(sorted_depth, stamp)])
                if abs(nearest - stamp) <= max_dt_ns:
                    depth_of[stamp] = nearest
        frame = pose_frames[0] or "map"
        info_stamps = np.array([s for s, _ in infos])
        waiting: dict[int, np.ndarray] = {}  # chosen images read, their depth not yet
        depths: dict[int, np.ndarray] = {}
        wanted_depths = set(depth_of.values())

        def add(stamp: int) -> None:
            image = waiting.pop(stamp)
            K = infos[max(0, int(np.searchsorted(info_stamps, stamp, side="right")) - 1)][1]
            descriptor = np.asarray(describe(image), dtype=np.float32) if describe is not None else None
            depth = depths.get(depth_of[stamp]) if stamp in depth_of else None
            store.add(Keyframe(f"{stamp}", stamp, frame, image, K, chosen[stamp], depth, descriptor))

        count = 0
        second_pass = [image_topic] + ([depth_topic] if depth_topic and depth_of else [])
        for message in progress(reader.messages(second_pass)):
            msg = message.decode()
            stamp = conversions.stamp_to_ns(msg.header.stamp)
            if message.topic == image_topic and stamp in chosen:
                waiting[stamp] = _converted(conversions.image_for_matching, msg, bag, message.topic)
            elif message.topic != image_topic and stamp in wanted_depths:
                depths[stamp] = _converted(conversions.depth_to_metres, msg, bag, message.topic)
            for ready in [s for s in waiting if s not in depth_of or depth_of[s] in depths]:
                add(ready)
                count += 1
        for stamp in list(waiting):  # a paired depth image that could not be read back: keyframe without depth
            depth_of.pop(stamp, None)
            add(stamp)
            count += 1
    logger.info("imported %d keyframes of %d images from %s into %s", count, len(image_stamps), bag, store.path)
    return count


def _converted(convert: Callable[[Any], T], msg: Any, bag: object, topic: str) -> T:
    try:
        return convert(msg)
    except ConversionError as error:
        raise MapError(f"bag {bag}, {topic}: {error}") from None
