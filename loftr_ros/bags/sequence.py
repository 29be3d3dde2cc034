"""A bag as an offline localization input: keyframes, ground truth and query frames, in the core's types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from loftr_ros import conversions
from loftr_ros.bags import topics
from loftr_ros.bags.reader import BagReader
from loftr_ros.errors import BagError, ConversionError
from loftr_ros.localization.types import CameraIntrinsics, Keyframe


@dataclass
class QueryFrame:
    """One query image of a bag, with its calibration and (when the bag has it) ground truth."""

    index: int  # position among the bag's images, from 0
    stamp_ns: int  # the image's header stamp
    image: np.ndarray  # (H, W) or (H, W, 3) uint8 RGB, what the matcher takes
    intrinsics: CameraIntrinsics
    T_map_camera_gt: np.ndarray | None  # (4, 4) ground truth at the stamp, None outside its span


def read_keyframes(reader: BagReader, topic: str = topics.KEYFRAMES_TOPIC) -> list[Keyframe]:
    """Every keyframe on ``topic`` (a later one with the same id replaces the earlier, as in the node)."""
    keyframes: dict[str, Keyframe] = {}
    for message in reader.messages([topic]):
        try:
            kf = conversions.keyframe_from_msg(message.decode())
        except ConversionError as error:
            raise BagError(f"bag {reader.path}, {topic} at {message.stamp_ns} ns: {error}") from None
        keyframes[kf.id] = kf
    return list(keyframes.values())


def read_ground_truth(reader: BagReader, topic: str = topics.GROUND_TRUTH_TOPIC) -> tuple[np.ndarray, np.ndarray]:
    """Stamps (N,) int64 ns (header stamps) and poses (N, 4, 4) T_map_camera of a PoseStamped topic."""
    stamps, poses = [], []
    for message in reader.messages([topic]):
        msg = message.decode()
        stamps.append(conversions.stamp_to_ns(msg.header.stamp))
        poses.append(conversions.pose_to_matrix(msg.pose))
    if not stamps:
        return np.zeros(0, np.int64), np.zeros((0, 4, 4))
    return np.asarray(stamps, np.int64), np.stack(poses)


def query_frames(
    reader: BagReader,
    image_topic: str = topics.IMAGE_TOPIC,
    camera_info_topic: str = topics.CAMERA_INFO_TOPIC,
    ground_truth_topic: str | None = topics.GROUND_TRUTH_TOPIC,
    max_gt_gap_ns: int = 100_000_000,
) -> Iterator[QueryFrame]:
    """The bag's images in order, each with the camera_info of its stamp (else the latest before it) and
    the ground truth interpolated at its stamp (no extrapolation; gaps above ``max_gt_gap_ns`` give None).

    Raises:
        BagError: a topic is missing, or an image has no camera_info at or before its stamp.
    """
    from loftr_ros.localization.io import Trajectory

    needed = [image_topic, camera_info_topic]
    reader.require(needed)
    infos: dict[int, CameraIntrinsics] = {}
    for message in reader.messages([camera_info_topic]):
        msg = message.decode()
        infos[conversions.stamp_to_ns(msg.header.stamp)] = conversions.camera_info_to_intrinsics(msg)
    info_stamps = np.array(sorted(infos), np.int64)
    trajectory = None
    if ground_truth_topic is not None and ground_truth_topic in reader.topics:
        stamps, poses = read_ground_truth(reader, ground_truth_topic)
        trajectory = Trajectory(stamps, poses) if len(stamps) else None
    for index, message in enumerate(reader.messages([image_topic])):
        msg = message.decode()
        stamp = conversions.stamp_to_ns(msg.header.stamp)
        i = int(np.searchsorted(info_stamps, stamp, side="right")) - 1
        if i < 0:
            raise BagError(f"bag {reader.path}: image at {stamp} ns has no {camera_info_topic} at or before it")
        image = conversions.image_for_matching(msg)
        T_gt = trajectory.at(stamp, max_gap_ns=max_gt_gap_ns) if trajectory is not None else None
        yield QueryFrame(index, stamp, image, infos[int(info_stamps[i])], T_gt)
