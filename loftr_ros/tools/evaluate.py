"""``loftr-ros evaluate --bag B [--map M]``: localize a bag's images offline and report how well it went.

Runs the core exactly as the node does (bag -> :mod:`loftr_ros.conversions` -> ``Localizer.localize``),
without DDS, and writes into ``--output``: ``frames.csv`` (one row per image), ``summary.json``
(``accuracy``: success rate, share within 5 cm / 2 deg and 10 cm / 5 deg, ATE, RPE, error percentiles;
``latency_s``: p50/p90 per stage; ``config``), ``trajectory.png`` (top view, failures marked),
``errors.png`` (error over time) and ``matches.png`` (a montage of a few frames' matches).

Errors are computed WITHOUT alignment: the map frame is the ground-truth frame (keyframe poses are ground
truth). Keyframes come from ``--map`` (a KeyframeStore file, opened read-only) or, without it, from the
bag's keyframe topic. The same ``--seed`` gives the same ``accuracy`` numbers; latency is wall time.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from loftr_ros.bags import topics
from loftr_ros.config import MATCHERS, MatcherSettings
from loftr_ros.errors import BagError
from loftr_ros.evaluation.report import FrameRecord
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.tools import WEIGHTS_HELP, output_folder

logger = logging.getLogger(__name__)

PRIORS = ("none", "previous")


@dataclass(frozen=True)
class EvaluateOptions:
    """What ``evaluate`` runs; every field is a command-line option of the same name."""

    bag: Path
    map: Path | None = None  # keyframe map; None = the bag's keyframe topic
    matcher: str = "loftr"  # loftr, sift or orb
    weights: str = ""  # LoFTR weights (file or name; "" = the package's)
    device: str = "auto"
    max_side: int = MatcherSettings.max_side  # LoFTR: longest side the network sees (resized to it; 0 = as is)
    seed: int = 0  # RANSAC and every random generator
    top_k: int = 0  # keyframes matched per frame; 0 = the node's top_k for LoFTR, all for SIFT/ORB (tiny images)
    prior: str = "none"  # "previous": the last localized pose narrows retrieval (tracking, not relocalization)
    cascade: bool = LocalizerConfig.cascade  # as the node: keyframes one at a time until a pose passes with margin
    max_frames: int = 0  # evaluate only the first N images (0 = all)
    montage_frames: int = 4  # frames drawn in matches.png
    image_topic: str = topics.IMAGE_TOPIC
    camera_info_topic: str = topics.CAMERA_INFO_TOPIC
    ground_truth_topic: str = topics.GROUND_TRUTH_TOPIC
    keyframes_topic: str = topics.KEYFRAMES_TOPIC


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bag", type=Path, required=True, help="rosbag2 folder (sqlite3 or MCAP)")
    parser.add_argument("--map", type=Path, default=None, help="keyframe map; without it, the bag's keyframe topic")
    parser.add_argument("--matcher", choices=MATCHERS, default="loftr", help="matcher")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (LoFTR)")
    parser.add_argument(
        "--max-side", type=int, default=MatcherSettings.max_side,
        help="LoFTR: longest side the network sees (resized to it; 0 = as is)",
    )
    parser.add_argument("--output", type=Path, default=None, help="output folder; without it, eval_<bag>_<matcher>")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--cascade", action=argparse.BooleanOptionalAction, default=LocalizerConfig.cascade,
                        help="match keyframes one at a time, best first, until a pose passes with margin")
    parser.add_argument("--seed", type=int, default=0, help="seed of RANSAC and of every random generator")
    parser.add_argument(
        "--top-k", type=int, default=0,
        help="keyframes matched per frame (0: 3 for LoFTR, all for SIFT/ORB, whose tiny-image retrieval is weak)",
    )  # fmt: skip
    parser.add_argument("--prior", choices=PRIORS, default="none", help="pose prior: none or the previous pose")
    parser.add_argument("--max-frames", type=int, default=0, help="evaluate only the first N images (0 = all)")
    parser.add_argument("--montage-frames", type=int, default=4, help="frames drawn in matches.png")
    parser.add_argument("--image-topic", default=topics.IMAGE_TOPIC, help="sensor_msgs/Image topic")
    parser.add_argument("--camera-info-topic", default=topics.CAMERA_INFO_TOPIC, help="CameraInfo topic")
    parser.add_argument("--ground-truth-topic", default=topics.GROUND_TRUTH_TOPIC, help="PoseStamped topic")
    parser.add_argument("--keyframes-topic", default=topics.KEYFRAMES_TOPIC, help="loftr_ros/Keyframe topic")


def seed_everything(seed: int) -> None:
    """Same seed, same numbers: Python, numpy, OpenCV and (when loaded) torch."""
    random.seed(seed)
    np.random.seed(seed)
    cv2.setRNGSeed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = np.ascontiguousarray(tile)
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 24), (0, 0, 0), -1)
    cv2.putText(tile, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def _draw(localizer: Any, image: np.ndarray, result: Any, record: FrameRecord) -> np.ndarray | None:
    from loftr_ros.visualization import draw_matches

    if not result.matches:
        return None
    best = max(result.matches, key=lambda m: (m.num_inliers, len(m)))
    kf = localizer.keyframe(best.keyframe_id)
    drawing = draw_matches(
        image, kf.image, best.keypoints_query, best.keypoints_keyframe, best.confidence, best.inliers
    )
    text = f"#{record.index} vs {best.keyframe_id}: {record.state}, {best.num_inliers}/{len(best)} inliers"
    if record.localized and record.T_gt is not None:
        text += f", {record.translation_error_m * 100:.1f} cm {record.rotation_error_deg:.2f} deg"
    return _label(drawing, text)


def evaluate(options: EvaluateOptions, output: Path) -> dict[str, Any]:
    """Run the evaluation and write every output; returns the summary (as written to summary.json)."""
    from tqdm import tqdm

    from loftr_ros.bags.reader import BagReader
    from loftr_ros.bags.sequence import query_frames, read_keyframes
    from loftr_ros.evaluation import plots
    from loftr_ros.evaluation.report import format_summary, summarize, write_csv, write_json
    from loftr_ros.localization.localizer import Localizer
    from loftr_ros.localization.store import KeyframeStore
    from loftr_ros.matchers import create_matcher

    seed_everything(options.seed)
    matcher = create_matcher(
        MatcherSettings(type=options.matcher, weights=options.weights, device=options.device, max_side=options.max_side)
    )
    seed_everything(options.seed)  # again: building LoFTR may have drawn random numbers
    base = LocalizerConfig()
    store_config = base.store
    output.mkdir(parents=True, exist_ok=True)
    with BagReader(options.bag) as reader:
        reader.require([options.image_topic, options.camera_info_topic])
        store = None
        if options.map is not None:
            store = KeyframeStore(options.map, store_config, create=False, readonly=True)
            keyframes: Any = store
            num_keyframes = len(store)
            keyframe_poses = [info.T_map_camera for info in store.list()]
            source = str(options.map)
        else:
            if options.keyframes_topic not in reader.topics:
                topic = options.keyframes_topic
                msg = f"bag {options.bag} has no {topic}: pass --map MAP.db or another --keyframes-topic"
                raise BagError(msg)
            keyframes = read_keyframes(reader, options.keyframes_topic)
            num_keyframes = len(keyframes)
            keyframe_poses = [keyframe.T_map_camera for keyframe in keyframes]
            source = f"{options.bag}:{options.keyframes_topic}"
        # LoFTR's learned descriptor retrieves; SIFT/ORB's tiny image is weak, so they try every keyframe
        learned_descriptor = options.matcher == "loftr"
        top_k = options.top_k or (base.retrieval.top_k if learned_descriptor else max(1, num_keyframes))
        config = replace(
            base,
            retrieval=replace(base.retrieval, top_k=top_k),
            pose=replace(base.pose, ransac_seed=options.seed),
            store=store_config,
            cascade=options.cascade,
        )
        logger.info("evaluating %s against %d keyframes from %s; %s", options.bag, num_keyframes, source, options)
        try:
            localizer = Localizer(keyframes, matcher, config)
            n_images = reader.message_counts[options.image_topic]
            total = min(n_images, options.max_frames) if options.max_frames > 0 else n_images
            k = min(options.montage_frames, total)
            drawn_at = set(np.linspace(0, total - 1, k).round().astype(int).tolist()) if k > 0 else set()
            records: list[FrameRecord] = []
            tiles: list[np.ndarray] = []
            prior = None
            frames = query_frames(reader, options.image_topic, options.camera_info_topic, options.ground_truth_topic)
            for frame in tqdm(frames, total=total, desc="localizing", unit="frame"):
                if frame.index >= total:
                    break
                result = localizer.localize(frame.image, frame.intrinsics, frame.stamp_ns, prior)
                record = FrameRecord(
                    index=frame.index, stamp_ns=frame.stamp_ns, state=result.state.name, reason=result.reason,
                    T_est=result.T_map_camera, T_gt=frame.T_map_camera_gt, num_matches=result.num_matches,
                    num_inliers=result.num_inliers, reprojection_rmse_px=result.reprojection_rmse_px,
                    keyframe_ids=list(result.keyframe_ids), timings=dict(result.timings),
                )  # fmt: skip
                records.append(record)
                if options.prior == "previous" and result.T_map_camera is not None:
                    prior = result.T_map_camera
                if frame.index in drawn_at:
                    tile = _draw(localizer, frame.image, result, record)
                    if tile is not None:
                        tiles.append(tile)
        finally:
            if store is not None:
                store.close()
    summary = summarize(records)
    summary["config"] = {
        "bag": str(options.bag), "map": str(options.map) if options.map else None,
        "keyframes": num_keyframes, "matcher": options.matcher, "weights": options.weights,
        "max_side": options.max_side,
        "seed": options.seed, "top_k": top_k, "prior": options.prior, "max_frames": options.max_frames,
        "cascade": options.cascade,
    }  # fmt: skip
    write_csv(records, output / "frames.csv")
    write_json(summary, output / "summary.json")
    name = f"{options.bag.name}, {options.matcher}"
    plots.plot_trajectory(records, output / "trajectory.png", f"{name}: trajectory, top view", keyframe_poses)
    plots.plot_errors(records, output / "errors.png", f"{name}: pose error")
    if tiles:
        plots.montage(tiles, output / "matches.png")
    print(format_summary(summary))
    return summary


def options_from_args(args: argparse.Namespace) -> EvaluateOptions:
    if min(args.top_k, args.max_frames, args.montage_frames, args.max_side) < 0:
        raise BagError("--top-k, --max-frames, --montage-frames and --max-side must be >= 0")
    return EvaluateOptions(
        bag=args.bag, map=args.map, matcher=args.matcher, weights=args.weights, device=args.device,
        max_side=args.max_side,
        seed=args.seed, top_k=args.top_k, prior=args.prior, cascade=args.cascade, max_frames=args.max_frames,
        montage_frames=args.montage_frames, image_topic=args.image_topic,
        camera_info_topic=args.camera_info_topic, ground_truth_topic=args.ground_truth_topic,
        keyframes_topic=args.keyframes_topic,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    output = args.output or Path(f"eval_{options.bag.name}_{options.matcher}")
    with output_folder(output, args.overwrite) as partial:
        summary = evaluate(options, partial)
    a = summary["accuracy"]
    with_truth = a["with_ground_truth"]
    within = a["within"].get("10cm_5deg", float("nan"))
    if with_truth and math.isfinite(within):
        accuracy = (f"within 10 cm / 5 deg: {within:.1%} of the {with_truth} frames with ground truth; "
                    f"ATE {a['ate_rmse_m']:.4f} m over the localized ones")  # fmt: skip
    else:
        accuracy = "no ground truth: accuracy not measured"
    print(f"Localized {a['localized']} of {a['frames']} frames ({options.matcher}); {accuracy}; results in {output}")
    return 0
