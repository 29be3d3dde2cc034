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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from loftr_ros.errors import ConfigError, MapError
from loftr_ros.localization.config import LocalizerConfig, QualityGates, RetrievalConfig
from loftr_ros.localization.geometry import pose_error
from loftr_ros.localization.io import Trajectory, read_image, stamped_files, tum_keyframes
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.types import CameraIntrinsics

logger = logging.getLogger("loftr_ros.tools.tum_keyframe_eval")

DEFAULT_DATA = Path("/work/shared/data/tum_fr3_long_office_household")
TUM_FR3 = CameraIntrinsics(640, 480, 535.4, 539.2, 320.1, 247.6)  # from the data's README (undistorted)


@dataclass
class _Matches:
    keypoints0: np.ndarray
    keypoints1: np.ndarray
    confidence: np.ndarray


class OpenCVMatcher:
    """SIFT or ORB with Lowe's ratio test, shaped like the LoFTR matcher (extract once, match many)."""

    def __init__(self, kind: str, ratio: float = 0.8, max_features: int = 4000) -> None:
        if kind not in ("sift", "orb"):
            raise ConfigError(f"OpenCV matcher must be 'sift' or 'orb', not {kind!r}")
        self.kind, self.ratio = kind, ratio
        if kind == "sift":
            self.detector = cv2.SIFT_create(nfeatures=max_features)
            self.norm = cv2.NORM_L2
        else:
            self.detector = cv2.ORB_create(nfeatures=max_features)
            self.norm = cv2.NORM_HAMMING
        self.fingerprint = f"opencv-{kind}-{max_features}"

    def extract(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        kps, desc = self.detector.detectAndCompute(gray, None)
        pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)  # OpenCV: (0, 0) = pixel centre
        return pts, desc

    def match(self, query_image: np.ndarray, keyframes: list[Any]) -> list[_Matches]:
        q_pts, q_desc = self.extract(query_image)
        matcher = cv2.BFMatcher(self.norm)
        out = []
        for k_pts, k_desc in keyframes:
            good = []
            if q_desc is not None and k_desc is not None and len(k_desc) >= 2:
                for pair in matcher.knnMatch(q_desc, k_desc, k=2):
                    if len(pair) == 2 and pair[0].distance < self.ratio * pair[1].distance:
                        good.append(pair[0])
            qi = np.array([m.queryIdx for m in good], int)
            ki = np.array([m.trainIdx for m in good], int)
            out.append(_Matches(q_pts[qi].reshape(-1, 2), k_pts[ki].reshape(-1, 2), np.ones(len(good), np.float32)))
        return out


def loftr_matcher(args: argparse.Namespace) -> Any:
    """Hook for the LoFTR matcher (``loftr_ros.loftr.Matcher``); the lead wires the constructor here."""
    try:
        from loftr_ros.loftr import Matcher  # type: ignore[attr-defined]
    except ImportError as error:
        raise ConfigError(f"the loftr matcher is not available yet ({error})") from None
    if args.weights is None:
        raise ConfigError("matcher 'loftr' needs --weights PATH (a trained checkpoint)")
    return Matcher.from_checkpoint(args.weights)  # hook: adjust to the model's real constructor


def make_matcher(name: str, args: argparse.Namespace) -> Any:
    if name in ("sift", "orb"):
        return OpenCVMatcher(name, ratio=args.ratio)
    if name == "loftr":
        return loftr_matcher(args)
    raise ConfigError(f"unknown matcher {name!r}; choose sift, orb or loftr")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the TUM subset folder")
    parser.add_argument("--matchers", nargs="+", default=["sift", "orb"], help="sift, orb and/or loftr")
    parser.add_argument("--weights", type=Path, default=None, help="LoFTR checkpoint for matcher 'loftr'")
    parser.add_argument("--ratio", type=float, default=0.8, help="Lowe ratio for sift/orb")
    parser.add_argument("--max-error-m", type=float, default=0.10, help="success: translation error below this")
    parser.add_argument("--max-error-deg", type=float, default=5.0, help="success: rotation error below this")
    parser.add_argument("--min-inliers", type=int, default=QualityGates().min_inliers, help="quality gate")
    parser.add_argument("--min-inlier-ratio", type=float, default=QualityGates().min_inlier_ratio, help="quality gate")
    parser.add_argument("--no-gates", action="store_true", help="report every pose, ungated (for diagnosis)")


def evaluate(args: argparse.Namespace, matcher_name: str) -> tuple[int, int]:
    """(successes, queries) for one matcher; logs one line per query."""
    data = args.data
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
