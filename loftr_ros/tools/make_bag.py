"""``loftr-ros make-bag --synthetic SEED --output BAG``: a synthetic sequence as a rosbag2 bag.

Layout (topics in :mod:`loftr_ros.bags.topics`): ``/keyframes`` at the start (every ``--keyframe-every``-th
frame, with exact depth and pose), then per frame ``/clock`` and ``/ground_truth/pose``, and for the other
frames (the queries) ``/camera_info`` + ``/image``. With ``--map``, the same keyframes also go into a
keyframe map file. The same seed gives the same bag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loftr_ros.bags.writer import STORAGES
from loftr_ros.errors import BagError
from loftr_ros.tools import parse_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--synthetic", type=int, required=True, metavar="SEED", help="seed of the synthetic room")
    parser.add_argument("--frames", type=int, default=30, help="frames along the trajectory")
    parser.add_argument("--keyframe-every", type=int, default=5, help="every K-th frame is a keyframe")
    parser.add_argument("--size", type=parse_size, default="320x240", metavar="WxH", help="image size")
    parser.add_argument("--fps", type=float, default=10.0, help="frame rate of the recording")
    parser.add_argument("--output", type=Path, required=True, help="bag folder to create (must not exist)")
    parser.add_argument("--storage", choices=tuple(STORAGES), default="sqlite3", help="bag storage")
    parser.add_argument("--map", type=Path, default=None, help="also write the keyframes to this map file")
    parser.add_argument(
        "--odometry-drift", type=float, default=None, metavar="M_PER_M",
        help="also write /odom for every frame, drifting this many metres per metre travelled (e.g. 0.02)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from loftr_ros.bags.sources import synthetic_bag

    if args.frames < 2 or args.keyframe_every < 1:
        raise BagError(f"--frames must be >= 2 and --keyframe-every >= 1, got {args.frames}, {args.keyframe_every}")
    width, height = args.size
    contents = synthetic_bag(
        args.output, args.synthetic, args.frames, keyframe_every=args.keyframe_every,
        width=width, height=height, fps=args.fps, odometry_drift=args.odometry_drift, storage=args.storage,
        map_path=args.map,
    )  # fmt: skip
    counts = ", ".join(f"{topic} {n}" for topic, n in contents.counts.items())
    where = f" and map {contents.map_path}" if contents.map_path else ""
    print(f"Wrote {contents.path} ({args.storage}){where}: {counts}.")
    return 0
