"""`loftr-ros build-map`: a keyframe map of one's own place, from a robot's rosbag or a TUM RGB-D download.

From a bag: images, camera_info, optional registered depth, and the camera's poses from a pose topic
(PoseStamped, PoseWithCovarianceStamped or Odometry, e.g. the robot's SLAM) or from the bag's /tf and
/tf_static between two frames the user names, with a fixed pose-to-camera transform. From a folder in the
official TUM RGB-D layout (``rgb.txt``, ``rgb/``, ``depth.txt``, ``depth/``, ``groundtruth.txt``). A frame
becomes a keyframe once the camera has moved ``--min-distance`` or turned ``--min-rotation`` since the last
one. The map is written beside its destination and moved into place when complete; a plot of the keyframe
poses goes next to it.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from loftr_ros.bags import topics
from loftr_ros.errors import LoftrRosError

if TYPE_CHECKING:
    from loftr_ros.localization.store import KeyframeInfo, KeyframeStore

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bag", type=Path, help="rosbag2 folder (sqlite3 or MCAP) with images, camera_info, poses")
    source.add_argument("--tum", type=Path, help="folder in the official TUM RGB-D layout (rgb.txt, groundtruth.txt)")
    parser.add_argument("--output", type=Path, required=True, help="map file to create")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing map file")
    parser.add_argument("--min-distance", type=float, default=0.2, help="metres travelled between keyframes")
    parser.add_argument("--min-rotation", type=float, default=10.0, help="or degrees turned between keyframes")
    parser.add_argument("--image-topic", default=topics.IMAGE_TOPIC, help="bag: sensor_msgs/Image topic")
    parser.add_argument("--camera-info-topic", default=topics.CAMERA_INFO_TOPIC, help="bag: its camera_info")
    parser.add_argument("--depth-topic", default="", help="bag: registered depth topic ('' = none)")
    parser.add_argument("--pose-topic", default=topics.GROUND_TRUTH_TOPIC,
                        help="bag: poses in the map frame (PoseStamped, PoseWithCovarianceStamped or Odometry)")
    parser.add_argument("--tf-frames", nargs=2, default=None, metavar=("MAP", "FRAME"),
                        help="bag: take the poses from /tf and /tf_static instead of --pose-topic: FRAME in MAP")
    parser.add_argument("--pose-to-camera", type=float, nargs=7, default=None,
                        metavar=("X", "Y", "Z", "QX", "QY", "QZ", "QW"),
                        help="bag: T_pose_camera, the optical frame in the posed frame (default: identity)")
    parser.add_argument("--tum-camera", choices=("fr1", "fr2", "fr3"), default=None,
                        help="TUM: which camera's intrinsics (default: from the folder name)")  # fmt: skip
    parser.epilog = (
        "examples: loftr-ros build-map --bag office.bag --image-topic /camera/color/image_raw "
        "--camera-info-topic /camera/color/camera_info --depth-topic /camera/aligned_depth/image_raw "
        "--pose-topic /slam/pose --output office.db\n"
        "          loftr-ros build-map --tum rgbd_dataset_freiburg3_long_office_household --output tum.db"
    )


def run(args: argparse.Namespace) -> int:
    from loftr_ros.localization.store import KeyframeStore

    if args.min_distance < 0 or args.min_rotation < 0:
        raise LoftrRosError("--min-distance and --min-rotation must be >= 0")
    if args.output.exists() and not args.overwrite:
        raise LoftrRosError(f"{args.output} exists: pass --overwrite to replace it")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_name(args.output.name + ".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    try:
        with KeyframeStore(partial) as store:
            frames = _from_bag(store, args) if args.bag is not None else _from_tum(store, args)
            infos = store.list()
        os.replace(partial, args.output)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    if not infos:
        raise LoftrRosError(f"no keyframe: no frame of {args.bag or args.tum} has a pose")
    positions = np.array([info.T_map_camera[:3, 3] for info in infos])
    path_m = float(np.linalg.norm(np.diff(positions, axis=0), axis=1).sum())
    span_s = (infos[-1].stamp_ns - infos[0].stamp_ns) * 1e-9
    with_depth = sum(info.has_depth for info in infos)
    plot = args.output.with_suffix(".png")
    plot_keyframes(infos, plot, f"{args.output.name}: {len(infos)} keyframes")
    print(f"[build-map] {args.output}: {len(infos)} keyframes of {frames} posed frames, {with_depth} with depth, "
          f"{len(infos) - with_depth} without; span {span_s:.1f} s, {path_m:.2f} m between keyframes")
    print(f"[build-map] keyframe poses drawn in {plot}")
    return 0


def _progress(total: int | None, what: str) -> Callable[[Iterable[Any]], Iterator[Any]]:
    from tqdm import tqdm

    return lambda items: tqdm(items, total=total, desc=what, unit="msg" if total is None else "frame")


def _from_bag(store: KeyframeStore, args: argparse.Namespace) -> int:
    from loftr_ros.bags.map_import import import_rosbag
    from loftr_ros.transforms import pose_from_tq

    extrinsic = None if args.pose_to_camera is None else pose_from_tq(args.pose_to_camera[:3], args.pose_to_camera[3:])
    pose_topic = None if args.tf_frames else args.pose_topic
    return import_rosbag(store, args.bag, args.image_topic, args.camera_info_topic, pose_topic,
                         args.depth_topic or None, tf_frames=tuple(args.tf_frames) if args.tf_frames else None,
                         T_pose_camera=extrinsic, min_distance_m=args.min_distance,
                         min_rotation_deg=args.min_rotation, progress=_progress(None, "reading"))  # fmt: skip


def _from_tum(store: KeyframeStore, args: argparse.Namespace) -> int:
    from loftr_ros.localization.io import (
        TUM_CAMERAS,
        nearest_stamp,
        official_tum_frames,
        read_depth,
        read_image,
        tum_camera_of,
    )
    from loftr_ros.localization.keyframe_selection import select_by_motion
    from loftr_ros.localization.types import Keyframe

    camera = args.tum_camera or tum_camera_of(args.tum)
    if camera is None:
        raise LoftrRosError(f"which TUM camera took {args.tum}? pass --tum-camera fr1, fr2 or fr3")
    intrinsics = TUM_CAMERAS[camera]
    colour, depth, trajectory = official_tum_frames(args.tum)
    posed = [(stamp, path, T) for stamp, path in colour if (T := trajectory.at(stamp)) is not None]
    chosen = [posed[i] for i in select_by_motion([T for *_, T in posed], args.min_distance, args.min_rotation)]
    depth_stamps = np.array([s for s, _ in depth], dtype=np.int64)
    for stamp, path, T in _progress(len(chosen), "keyframes")(chosen):
        image_depth = None
        if len(depth_stamps):
            j = nearest_stamp(depth_stamps, stamp)
            if abs(int(depth_stamps[j]) - stamp) <= 20_000_000:
                image_depth = read_depth(depth[j][1], depth_scale=5000.0)
        store.add(Keyframe(path.stem, stamp, "map", read_image(path), intrinsics, T, image_depth))
    return len(posed)


def plot_keyframes(infos: list[KeyframeInfo], path: Path, title: str) -> None:
    """Top view (x, y) of the keyframes: positions along the way and where each camera looks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = np.array([info.T_map_camera[:3, 3] for info in infos])
    looks = np.array([info.T_map_camera[:3, 2] for info in infos])  # the optical axis (z) in the map frame
    fig, ax = plt.subplots(figsize=(7, 6), dpi=120)
    ax.plot(positions[:, 0], positions[:, 1], "-", color="0.7", lw=1, label="order of the keyframes")
    depth = np.array([info.has_depth for info in infos])
    ax.scatter(*positions[depth, :2].T, s=18, color="tab:blue", label="keyframe with depth", zorder=3)
    ax.scatter(*positions[~depth, :2].T, s=18, color="tab:orange", label="keyframe without depth", zorder=3)
    scale = max(np.ptp(positions[:, :2], axis=0).max() * 0.05, 0.05)
    ax.quiver(positions[:, 0], positions[:, 1], looks[:, 0], looks[:, 1], angles="xy", scale_units="xy",
              scale=1 / scale, width=0.003, color="tab:green", label="viewing direction")  # fmt: skip
    ax.set_xlabel("x in the map frame (m)")
    ax.set_ylabel("y in the map frame (m)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
