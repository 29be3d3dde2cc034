"""Bags (and matching keyframe maps) from a synthetic sequence or a TUM RGB-D folder.

Layout of every bag written here (names in :mod:`loftr_ros.bags.topics`):

- ``/keyframes`` (loftr_ros/Keyframe, depth 32FC1 metres, pose in ``map``): all keyframes, recorded at
  the bag's start so that a replay delivers the map before the first query.
- ``/camera_info`` and ``/image`` (rgb8): the query frames only, both with the frame's stamp. Frames that
  are keyframes are not queries, so no query is trivially its own keyframe.
- ``/ground_truth/pose`` (geometry_msgs/PoseStamped in ``map``): T_map_camera of the optical frame. The
  map frame is the ground-truth frame (synthetic: the room; TUM: the motion-capture world).
- ``/odom`` (nav_msgs/Odometry, optional): ``T_odom_camera`` of every frame, as a robot's odometry would
  give it (synthetic: drifting with the distance travelled); the node turns it into a prior.
- ``/clock`` (rosgraph_msgs/Clock): the recording's time, once per distinct message stamp.

Record time equals header stamp for every message but the keyframes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.bags import topics
from loftr_ros.bags.writer import BagWriter
from loftr_ros.errors import BagError
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

logger = logging.getLogger("loftr_ros.bags")

SYNTHETIC_START_NS = 1_700_000_000_000_000_000  # a fixed origin: the same seed gives the same bag
TUM_FR3_INTRINSICS = CameraIntrinsics(640, 480, 535.4, 539.2, 320.1, 247.6)  # the data's README (undistorted)
TUM_DEPTH_SCALE = 5000.0  # TUM depth PNG units per metre

# Order of messages that share a stamp: the clock first, the calibration before its image.
_ORDER = {
    topics.CLOCK_TOPIC: 0,
    topics.GROUND_TRUTH_TOPIC: 1,
    topics.ODOM_TOPIC: 2,
    topics.CAMERA_INFO_TOPIC: 3,
    topics.IMAGE_TOPIC: 4,
}


@dataclass
class QueryView:
    """A query frame to write: stamp, uint8 RGB (or grey) image, its intrinsics."""

    stamp_ns: int
    image: np.ndarray
    intrinsics: CameraIntrinsics


@dataclass
class BagContents:
    """What :func:`write_bag` wrote, for the tools' summary line."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    map_path: Path | None = None
    num_keyframes: int = 0


def _header(stamp_ns: int, frame_id: str) -> Header:
    return Header(stamp=conversions.ns_to_stamp(stamp_ns), frame_id=frame_id)


def _pose_stamped(stamp_ns: int, T_map_camera: np.ndarray) -> PoseStamped:
    return PoseStamped(header=_header(stamp_ns, topics.MAP_FRAME), pose=conversions.matrix_to_pose(T_map_camera))


def check_new_outputs(output: str | os.PathLike[str], map_path: str | os.PathLike[str] | None = None) -> None:
    """Refuse, before any work, to overwrite a bag or a map."""
    if Path(output).exists():
        raise BagError(f"bag {output} exists; delete it or choose another --output")
    if map_path is not None and Path(map_path).exists():
        raise BagError(f"map {map_path} exists; delete it or choose another --map")


def write_bag(
    output: str | os.PathLike[str],
    keyframes: Iterable[Keyframe],
    queries: Iterable[QueryView],
    ground_truth: Iterable[tuple[int, np.ndarray]],
    *,
    odometry: Iterable[tuple[int, np.ndarray]] = (),
    storage: str = "sqlite3",
    map_path: str | os.PathLike[str] | None = None,
) -> BagContents:
    """Write the layout of the module docstring; with ``map_path``, also a keyframe map of the same keyframes.

    Raises:
        BagError: the bag or the map exists (neither is overwritten).
    """
    keyframes = list(keyframes)
    check_new_outputs(output, map_path)
    events: list[tuple[int, int, str, Any]] = []
    for T_stamp, T in ground_truth:
        events.append(
            (T_stamp, _ORDER[topics.GROUND_TRUTH_TOPIC], topics.GROUND_TRUTH_TOPIC, _pose_stamped(T_stamp, T))
        )
    for stamp_ns, T in odometry:
        message = Odometry(header=_header(stamp_ns, topics.ODOM_FRAME), child_frame_id=topics.CAMERA_FRAME)
        message.pose.pose = conversions.matrix_to_pose(T)
        events.append((stamp_ns, _ORDER[topics.ODOM_TOPIC], topics.ODOM_TOPIC, message))
    for q in queries:
        header = _header(q.stamp_ns, topics.CAMERA_FRAME)
        info = conversions.intrinsics_to_camera_info(q.intrinsics, header)
        events.append((q.stamp_ns, _ORDER[topics.CAMERA_INFO_TOPIC], topics.CAMERA_INFO_TOPIC, info))
        events.append(
            (
                q.stamp_ns,
                _ORDER[topics.IMAGE_TOPIC],
                topics.IMAGE_TOPIC,
                conversions.rgb_to_image(q.image, header),
            )
        )
    if not events and not keyframes:
        raise BagError(f"nothing to write to {output}: no keyframes, queries or poses")
    stamps = {e[0] for e in events} | {kf.stamp_ns for kf in keyframes}
    for stamp in stamps:
        events.append(
            (
                stamp,
                _ORDER[topics.CLOCK_TOPIC],
                topics.CLOCK_TOPIC,
                Clock(clock=conversions.ns_to_stamp(stamp)),
            )
        )
    events.sort(key=lambda e: (e[0], e[1]))
    start_ns = min(stamps)
    contents = BagContents(Path(output), num_keyframes=len(keyframes))
    with BagWriter(output, storage) as writer:
        writer.write(topics.CLOCK_TOPIC, Clock(clock=conversions.ns_to_stamp(start_ns)), start_ns)
        for kf in keyframes:
            msg = conversions.keyframe_to_msg(kf, topics.CAMERA_FRAME, depth_encoding="32FC1")
            writer.write(topics.KEYFRAMES_TOPIC, msg, start_ns)
        first_clock = True
        for stamp, _, topic, msg in events:
            if topic == topics.CLOCK_TOPIC and stamp == start_ns and first_clock:
                first_clock = False  # written above, before the keyframes
                continue
            writer.write(topic, msg, stamp)
        contents.counts = dict(writer.counts)
    if map_path is not None:
        write_map(keyframes, map_path)
        contents.map_path = Path(map_path)
    return contents


def write_map(keyframes: Iterable[Keyframe], map_path: str | os.PathLike[str]) -> int:
    """A new keyframe map file holding ``keyframes``; returns how many."""
    from loftr_ros.localization.store import KeyframeStore

    count = 0
    with KeyframeStore(map_path, create=True) as store:
        for kf in keyframes:
            store.add(kf)
            count += 1
    logger.info("wrote map %s with %d keyframes", map_path, count)
    return count


# -- synthetic -------------------------------------------------------------------------------------------


def synthetic_bag(
    output: str | os.PathLike[str],
    seed: int,
    n_frames: int = 30,
    *,
    keyframe_every: int = 5,
    width: int = 320,
    height: int = 240,
    fps: float = 10.0,
    odometry_drift: float | None = None,
    storage: str = "sqlite3",
    map_path: str | os.PathLike[str] | None = None,
) -> BagContents:
    """A bag of :func:`loftr_ros.synthetic.make_sequence` (same seed, same bag), frames ``1/fps`` apart;
    with ``odometry_drift`` (metres per metre travelled), also ``/odom`` for every frame."""
    from loftr_ros.synthetic import PairConfig, make_sequence
    from loftr_ros.synthetic.odometry import drifting_odometry

    if fps <= 0:
        raise BagError(f"fps must be positive, got {fps}")
    check_new_outputs(output, map_path)
    sequence = make_sequence(seed, n_frames, keyframe_every, config=PairConfig(width=width, height=height))
    period_ns = round(1e9 / fps)

    def stamp(index: int) -> int:
        return SYNTHETIC_START_NS + index * period_ns

    keyframes = [
        Keyframe(
            f"kf{index:04d}",
            stamp(index),
            topics.MAP_FRAME,
            view.image,
            view.intrinsics,
            view.T_world_camera,
            view.depth,
        )
        for index, view in zip(sequence.keyframe_indices, sequence.keyframes, strict=True)
    ]
    queries = [
        QueryView(stamp(index), view.image, view.intrinsics)
        for index, view in zip(sequence.query_indices, sequence.queries, strict=True)
    ]
    views = sorted(
        [*zip(sequence.keyframe_indices, sequence.keyframes, strict=True),
         *zip(sequence.query_indices, sequence.queries, strict=True)], key=lambda p: p[0],
    )  # fmt: skip
    ground_truth = [(stamp(index), view.T_world_camera) for index, view in views]
    odometry = []
    if odometry_drift is not None:
        poses = drifting_odometry([T for _, T in ground_truth], seed, drift=odometry_drift)
        odometry = [(stamp_ns, T) for (stamp_ns, _), T in zip(ground_truth, poses, strict=True)]
    return write_bag(
        output, keyframes, queries, ground_truth, odometry=odometry, storage=storage, map_path=map_path
    )


# -- TUM RGB-D --------------------------------------------------------------------------------------------


def tum_bag(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    keyframe_every: int = 5,
    max_queries: int | None = None,
    intrinsics: CameraIntrinsics = TUM_FR3_INTRINSICS,
    storage: str = "sqlite3",
    map_path: str | os.PathLike[str] | None = None,
) -> BagContents:
    """A bag and map from a TUM folder (``rgbd/rgb``, ``rgbd/depth``, ``sequence_1hz``, ``groundtruth.txt``).

    Keyframes: every ``keyframe_every``-th ``rgbd/rgb`` frame with ground truth, with the nearest depth
    (:func:`loftr_ros.localization.io.tum_keyframes`). Queries: every other colour frame of ``rgbd/rgb``
    and ``sequence_1hz`` (one per stamp), at most ``max_queries``. Ground truth: ``groundtruth.txt`` over
    the frames' time span (100 Hz for TUM).
    """
    from loftr_ros.localization.io import Trajectory, read_image, stamped_files, tum_keyframes

    folder = Path(folder)
    check_new_outputs(output, map_path)
    rgb_dir, depth_dir, gt_path = (
        folder / "rgbd" / "rgb",
        folder / "rgbd" / "depth",
        folder / "groundtruth.txt",
    )
    for needed in (rgb_dir, gt_path):
        if not needed.exists():
            msg = f"{folder} is not a TUM-style folder: {needed} is missing (see import-tum --help)"
            raise BagError(msg)
    keyframes = tum_keyframes(
        rgb_dir, gt_path, intrinsics, depth_dir if depth_dir.exists() else None,
        depth_scale=TUM_DEPTH_SCALE, every=keyframe_every, frame_id=topics.MAP_FRAME,
    )  # fmt: skip
    if not keyframes:
        every = f"every {keyframe_every}th"
        msg = f"{folder}: no rgbd/rgb frame with ground truth in {every}; lower --keyframe-every"
        raise BagError(msg)
    key_stamps = {kf.stamp_ns for kf in keyframes}
    files: dict[int, Path] = {}
    for sub in (rgb_dir, folder / "sequence_1hz"):
        if sub.exists():
            for stamp, path in stamped_files(sub):
                files.setdefault(stamp, path)
    query_stamps = sorted(s for s in files if s not in key_stamps)[:max_queries]
    queries = [QueryView(s, read_image(files[s]), intrinsics) for s in query_stamps]
    for q in queries:
        if q.image.shape[:2] != (intrinsics.height, intrinsics.width):
            size = f"{q.image.shape[1]}x{q.image.shape[0]}"
            expected = f"{intrinsics.width}x{intrinsics.height}"
            msg = f"{files[q.stamp_ns]} is {size}, not {expected} as the intrinsics say"
            raise BagError(msg)
    trajectory = Trajectory.read_tum(gt_path)
    all_stamps = sorted(key_stamps | set(query_stamps))
    if not all_stamps:
        raise BagError(f"{folder} has no colour frames")
    margin = 100_000_000
    span = (trajectory.stamps_ns >= all_stamps[0] - margin) & (trajectory.stamps_ns <= all_stamps[-1] + margin)
    ground_truth = [(int(s), T) for s, T in zip(trajectory.stamps_ns[span], trajectory.poses[span], strict=True)]
    logger.info(
        "%s: %d keyframes, %d queries, %d ground-truth poses",
        folder,
        len(keyframes),
        len(queries),
        len(ground_truth),
    )
    return write_bag(output, keyframes, queries, ground_truth, storage=storage, map_path=map_path)
