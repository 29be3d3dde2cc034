"""Relocalize real TUM fr3/long_office_household frames against one RGB-D keyframe.

The keyframe is the first RGB-D frame with ground truth (frames before the first ground-truth stamp are
skipped, as the data's README allows), with the nearest depth image; the queries are the
``sequence_1hz`` frames 1 to 16 s after it. Every matcher runs through the same
:class:`~loftr_ros.localization.localizer.Localizer` (absolute pose from keyframe depth, the same gates).
Prints per query the pose error and the outcome, then how many are within 10 cm and 5 degrees.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.config import MatcherSettings
from loftr_ros.errors import LoftrRosError, MapError
from loftr_ros.localization.config import LocalizerConfig, QualityGates, RetrievalConfig
from loftr_ros.localization.io import Trajectory, read_image, stamped_files, tum_keyframes
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.matchers import create_matcher
from loftr_ros.tools import DEFAULT_TUM_FOLDER, tum_folder
from loftr_ros.transforms import pose_error

logger = logging.getLogger("loftr_ros.tools.tum_keyframe_eval")

DEFAULT_DATA = DEFAULT_TUM_FOLDER
TUM_FR3 = CameraIntrinsics(640, 480, 535.4, 539.2, 320.1, 247.6)  # from the data's README (undistorted)


def make_matcher(name: str, args: argparse.Namespace) -> Any:
    settings = MatcherSettings(type=name, weights=str(args.weights or ""), max_side=args.max_side)
    if name in ("sift", "orb"):
        return OpenCVMatcher(name, ratio=args.ratio)
    return create_matcher(settings)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the TUM subset folder")
    parser.add_argument("--matchers", nargs="+", default=["sift", "orb"], help="sift, orb and/or loftr")
    parser.add_argument("--weights", type=Path, default=None, help="LoFTR weights for 'loftr' (default: shipped)")
    parser.add_argument("--max-side", type=int, default=MatcherSettings.max_side, help="LoFTR input's longest side")
    parser.add_argument("--ratio", type=float, default=0.8, help="Lowe ratio for sift/orb")
    parser.add_argument("--max-error-m", type=float, default=0.10, help="success: translation error below this")
    parser.add_argument("--max-error-deg", type=float, default=5.0, help="success: rotation error below this")
    parser.add_argument("--min-inliers", type=int, default=QualityGates().min_inliers, help="quality gate")
    parser.add_argument("--min-inlier-ratio", type=float, default=QualityGates().min_inlier_ratio, help="quality gate")
    parser.add_argument("--no-gates", action="store_true", help="report every pose, ungated (for diagnosis)")


def evaluate(args: argparse.Namespace, matcher_name: str) -> tuple[int, int]:
    """(successes, queries) for one matcher; logs one line per query."""
    data = tum_folder(args.data, "--data")
    if data is None:
        raise LoftrRosError("tum-keyframe-eval needs --data PATH (a TUM folder)")
    keyframes = tum_keyframes(data / "rgbd/rgb", data / "groundtruth.txt", TUM_FR3, data / "rgbd/depth", limit=1)
    if not keyframes or keyframes[0].depth is None:
        raise MapError(f"{data}: no RGB-D frame with ground truth and depth")
    kf = keyframes[0]
    trajectory = Trajectory.read_tum(data / "groundtruth.txt")
    queries = []
    for stamp, path in stamped_files(data / "sequence_1hz"):
        dt = (stamp - kf.stamp_ns) / 1e9
        T = trajectory.at(stamp)
        if 0.5 <= dt <= 16.5 and T is not None:
            queries.append((stamp, path, T, dt))
    gates = QualityGates(min_inliers=args.min_inliers, min_inlier_ratio=args.min_inlier_ratio)
    if args.no_gates:
        gates = QualityGates(min_matches=0, min_inliers=6, min_inlier_ratio=0.0, max_rmse_px=1e9)
    config = LocalizerConfig(retrieval=RetrievalConfig(top_k=1), gates=gates)
    config = replace(config, pose=replace(config.pose, max_reprojection_error_px=4.0))
    localizer = Localizer([kf], make_matcher(matcher_name, args), config)
    successes = 0
    for stamp, path, T_true, dt in queries:
        result = localizer.localize(read_image(path), TUM_FR3, stamp)
        if result.localized:
            et, er = pose_error(result.T_map_camera, T_true)
            ok = et < args.max_error_m and er < args.max_error_deg
            successes += ok
            outcome = f"{et * 100:6.1f} cm {er:5.1f} deg {'OK' if ok else 'off'}"
        else:
            outcome = f"not localized: {result.reason}"
        print(
            f"  {matcher_name} {path.name} (+{dt:4.1f} s): {result.num_matches:4d} matches "
            f"{result.num_inliers:4d} inliers  {outcome}"
        )
    return successes, len(queries)


def run(args: argparse.Namespace) -> int:
    logger.info("keyframe eval on %s with %s", args.data, ", ".join(args.matchers))
    summary = []
    for name in args.matchers:
        ok, total = evaluate(args, name)
        summary.append(
            f"{name}: {ok} of {total} localized within {args.max_error_m * 100:g} cm and {args.max_error_deg:g} deg"
        )
    for line in summary:
        print(line)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
