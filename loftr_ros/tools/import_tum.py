"""``loftr-ros import-tum FOLDER --output BAG [--map MAP.db]``: a TUM RGB-D folder as a bag (and a map).

The folder holds ``rgbd/rgb/<stamp>.png`` (8-bit colour), ``rgbd/depth/<stamp>.png`` (16-bit,
``5000`` units per metre), optionally ``sequence_1hz/<stamp>.png`` and ``groundtruth.txt``
(``timestamp tx ty tz qx qy qz qw``, T_world_camera of the colour camera). Keyframes: every
``--keyframe-every``-th ``rgbd/rgb`` frame with ground truth and its nearest depth; queries: every other
colour frame. The map frame is the motion-capture world. Intrinsics default to TUM fr3's (undistorted).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loftr_ros.bags.writer import STORAGES
from loftr_ros.errors import BagError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from loftr_ros.bags.sources import TUM_FR3_INTRINSICS as K

    parser.add_argument("folder", type=Path, help="TUM-style folder (rgbd/rgb, rgbd/depth, groundtruth.txt)")
    parser.add_argument("--output", type=Path, required=True, help="bag folder to create (must not exist)")
    parser.add_argument("--map", type=Path, default=None, help="also write the keyframes to this map file")
    parser.add_argument("--storage", choices=tuple(STORAGES), default="sqlite3", help="bag storage")
    parser.add_argument("--keyframe-every", type=int, default=5, help="every K-th rgbd frame is a keyframe")
    parser.add_argument("--max-queries", type=int, default=0, help="keep only the first N queries (0 = all)")
    parser.add_argument(
        "--intrinsics", type=float, nargs=4, default=[K.fx, K.fy, K.cx, K.cy],
        metavar=("FX", "FY", "CX", "CY"),
        help="pinhole intrinsics of the (undistorted) colour images, pixels",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from loftr_ros.bags.sources import TUM_FR3_INTRINSICS, tum_bag
    from loftr_ros.localization.types import CameraIntrinsics

    if args.keyframe_every < 1 or args.max_queries < 0:
        raise BagError("--keyframe-every must be >= 1 and --max-queries >= 0")
    fx, fy, cx, cy = args.intrinsics
    intrinsics = CameraIntrinsics(TUM_FR3_INTRINSICS.width, TUM_FR3_INTRINSICS.height, fx, fy, cx, cy)
    contents = tum_bag(
        args.folder, args.output, keyframe_every=args.keyframe_every, max_queries=args.max_queries or None,
        intrinsics=intrinsics, storage=args.storage, map_path=args.map,
    )  # fmt: skip
    counts = ", ".join(f"{topic} {n}" for topic, n in contents.counts.items())
    where = f" and map {contents.map_path}" if contents.map_path else ""
    print(f"Wrote {contents.path} ({args.storage}){where}: {counts}.")
    return 0
