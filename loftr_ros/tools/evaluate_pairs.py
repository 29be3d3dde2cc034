"""`loftr-ros evaluate-pairs`: relative-pose AUC@5/10/20 of LoFTR beside SIFT and ORB, same pose code.

Three sets: (a) held-out synthetic pairs (a seed range training never uses), (b) scikit-image's
Middlebury motorcycle stereo pair (exact calibration), (c) the real TUM frames of a TUM-format folder,
pairs of ``sequence_1hz`` frames one to three apart. Every method's correspondences go through the same
PoseLib relative pose (LO-RANSAC) and the same error: max(rotation, translation-direction) in degrees.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.config import MatcherSettings
from loftr_ros.localization.io import Trajectory, read_image, stamped_files
from loftr_ros.tools import DEFAULT_TUM_FOLDER, WEIGHTS_HELP, parse_size, tum_folder
from loftr_ros.training.binned_evaluation import EvalPair as Pair
from loftr_ros.training.evaluation import evaluate_pair, pose_auc
from loftr_ros.transforms import invert_transform

logger = logging.getLogger(__name__)

DEFAULT_TUM = DEFAULT_TUM_FOLDER
TUM_K = np.array([[535.4, 0.0, 320.1], [0.0, 539.2, 247.6], [0.0, 0.0, 1.0]])
HELD_OUT_SEED = 1_000_000  # synthetic pairs from here on are never drawn in training (seeds 0.. steps*batch)


def synthetic_pairs(count: int, width: int, height: int) -> Iterator[Pair]:
    from loftr_ros.synthetic.pairs import PairConfig, sample_pair

    for i in range(count):
        sample = sample_pair(HELD_OUT_SEED + i, PairConfig(width=width, height=height))
        v0, v1 = sample.view0, sample.view1
        yield Pair(f"synthetic/{i}", v0.image, v1.image, v0.intrinsics.K, v1.intrinsics.K, sample.T_0to1)


def middlebury_pair() -> Iterator[Pair]:
    """The rectified motorcycle pair: identical rotations, a 193 mm baseline along x (skimage's calibration)."""
    from skimage.data import stereo_motorcycle

    left, right, _ = stereo_motorcycle()
    f, cx, cy, dx = 994.978, 311.193, 254.877, 31.086
    K0 = np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])
    K1 = K0.copy()
    K1[0, 2] += dx
    T_0to1 = np.eye(4)
    T_0to1[0, 3] = -0.193001
    yield Pair("middlebury/motorcycle", left, right, K0, K1, T_0to1)


def tum_pairs(folder: Path, gaps: tuple[int, ...] = (1, 2, 3)) -> Iterator[Pair]:
    """Pairs (i, i + gap) of the 1 Hz frames that have ground truth, for each gap (frames, about seconds)."""
    trajectory = Trajectory.read_tum(folder / "groundtruth.txt")
    frames = []
    for stamp, path in stamped_files(folder / "sequence_1hz"):
        T = trajectory.at(stamp)  # None before the first ground-truth pose: those frames are skipped
        if T is not None:
            frames.append((path, T))
    images = {path: read_image(path) for path, _ in frames}
    for i, (path0, T0) in enumerate(frames):
        for gap in gaps:
            if i + gap >= len(frames):
                continue
            path1, T1 = frames[i + gap]
            T_0to1 = invert_transform(T1) @ T0  # world->cam1 after cam0->world
            yield Pair(f"tum/{path0.stem}-{path1.stem}", images[path0], images[path1], TUM_K, TUM_K, T_0to1,
                       {"TUM gap (s)": float(gap)})  # fmt: skip


def _loftr(weights: str, max_side: int):
    from loftr_ros.loftr import Matcher

    return Matcher(weights=weights or "default", max_side=max_side)


def evaluate(pairs: list[Pair], methods: dict[str, object]) -> dict[str, dict[str, float]]:
    errors: dict[str, list[float]] = {name: [] for name in methods}
    for pair in pairs:
        size0 = (pair.image0.shape[1], pair.image0.shape[0])
        size1 = (pair.image1.shape[1], pair.image1.shape[0])
        for name, matcher in methods.items():
            m = matcher.match_pair(pair.image0, pair.image1)
            result = evaluate_pair(m.keypoints0, m.keypoints1, pair.K0, pair.K1, pair.T_0to1,
                                   image_size0=size0, image_size1=size1)  # fmt: skip
            errors[name].append(result.pose_error)
            logger.debug("%s %s: %.2f deg, %d matches", pair.name, name, result.pose_error, result.num_matches)
    return {name: {**pose_auc(e, (5, 10, 20)), "pairs": len(e)} for name, e in errors.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--max-side", type=int, default=MatcherSettings.max_side, help="LoFTR input's longest side")
    parser.add_argument("--synthetic", type=int, default=20, help="held-out synthetic pairs (0 = skip)")
    parser.add_argument(
        "--synthetic-size", type=parse_size, default="320x240", metavar="WxH", help="synthetic image size"
    )
    parser.add_argument("--tum", type=Path, default=DEFAULT_TUM, help="TUM-format folder ('' = skip)")
    parser.add_argument("--no-middlebury", action="store_true", help="skip the Middlebury pair")


def run(args: argparse.Namespace) -> int:
    methods = {"LoFTR (ours)": _loftr(args.weights, args.max_side), "SIFT": OpenCVMatcher("sift"),
               "ORB": OpenCVMatcher("orb")}  # fmt: skip
    width, height = args.synthetic_size
    sets: dict[str, list[Pair]] = {}
    if args.synthetic:
        sets["synthetic (held out)"] = list(synthetic_pairs(args.synthetic, width, height))
    if not args.no_middlebury:
        sets["Middlebury motorcycle"] = list(middlebury_pair())
    tum = tum_folder(args.tum)
    if tum is not None:
        sets["TUM fr3 1 Hz, gaps 1-3"] = list(tum_pairs(tum))
    print(f"{'set':26s} {'method':14s} {'pairs':>5s} {'AUC@5':>7s} {'AUC@10':>7s} {'AUC@20':>7s}")
    for set_name, pairs in sets.items():
        for method, scores in evaluate(pairs, methods).items():
            print(f"{set_name:26s} {method:14s} {scores['pairs']:5d} {100 * scores['auc@5']:7.1f} "
                  f"{100 * scores['auc@10']:7.1f} {100 * scores['auc@20']:7.1f}")  # fmt: skip
    print(f"Evaluated {sum(len(p) for p in sets.values())} pairs in {len(sets)} sets, AUC in percent.")
    return 0
