"""`loftr-ros benchmark-map`: peak memory and per-frame latency as the keyframe map grows (to 5,000).

One rendered room's RGB-D keyframes are copied into "rooms" 100 m apart until the map holds each size; every
query carries a prior in a different room, so retrieval ranks the whole map and matching touches new
keyframes all the time: the feature cache fills and must hold its bound in MB. Descriptors are computed
once per distinct view and written with the copies (as a map built by the node would hold them). Printed
per map size: opening time, per-frame p50/p95 (retrieval, matching, pose), peak and current RSS of this
process, and what the caches hold.
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
from pathlib import Path

import numpy as np

from loftr_ros.tools import WEIGHTS_HELP, parse_size

logger = logging.getLogger(__name__)
ROOM_SPACING_M = 100.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="map sizes, increasing")
    parser.add_argument("--queries", type=int, default=60, help="timed queries per map size")
    parser.add_argument("--camera", type=parse_size, default="640x480", metavar="WxH", help="camera image size")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--output", type=Path, default=Path("out/benchmark_map"), help="folder for the map file")
    parser.epilog = "example: loftr-ros benchmark-map --sizes 100 1000 5000 --queries 60"


def rss_mb() -> tuple[float, float]:
    """(peak, current) resident memory of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    return peak, current


def in_room(T: np.ndarray, room: int) -> np.ndarray:
    moved = T.copy()
    moved[0, 3] += room * ROOM_SPACING_M
    return moved


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from loftr_ros.config import MatcherSettings
    from loftr_ros.localization.config import LocalizerConfig
    from loftr_ros.localization.localizer import Localizer
    from loftr_ros.localization.store import KeyframeStore
    from loftr_ros.localization.types import Keyframe
    from loftr_ros.matchers import create_matcher
    from loftr_ros.synthetic.pairs import PairConfig, make_sequence

    if sorted(args.sizes) != args.sizes or args.sizes[0] < 1:
        raise SystemExit("--sizes must be positive and increasing")
    width, height = args.camera
    config = LocalizerConfig()  # the node's defaults
    settings = MatcherSettings(weights=args.weights)
    matcher = create_matcher(settings)
    sequence = make_sequence(0, 24, keyframe_every=2, config=PairConfig(width=width, height=height))
    views = sequence.keyframes
    descriptors = [np.asarray(matcher.describe(view.image), dtype=np.float32) for view in views]
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "map.db"
    path.unlink(missing_ok=True)
    print(f"map sizes {args.sizes}, {args.queries} queries each, {width}x{height} camera, defaults: side "
          f"{settings.max_side}, top_k {config.retrieval.top_k}, feature cache {config.feature_cache_mb:.0f} MB, "
          f"keyframe cache {config.keyframe_cache_mb:.0f} MB")  # fmt: skip
    print("| keyframes | build s | open s | retrieve p50 ms | match p50 ms | pose p50 ms | frame p50 / p95 ms "
          "| localized | peak RSS MB | RSS MB | feature cache MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    written = 0
    for size in args.sizes:
        started = time.perf_counter()
        with KeyframeStore(path, config.store) as store:
            store.set_descriptor_source(matcher.descriptor_source)
            while written < size:
                room, v = divmod(written, len(views))
                view = views[v]
                store.add(Keyframe(f"room{room}-kf{v}", written, "map", view.image, view.intrinsics,
                                   in_room(view.T_world_camera, room), view.depth, descriptors[v]))  # fmt: skip
                written += 1
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        store = KeyframeStore(path, config.store)
        localizer = Localizer(store, matcher, replace(config))
        open_s = time.perf_counter() - started
        rooms = (size + len(views) - 1) // len(views)
        stages: dict[str, list[float]] = {"retrieve": [], "match": [], "pose": [], "frame": []}
        localized = 0
        for q in range(args.queries):
            query = sequence.queries[q % len(sequence.queries)]
            room = int(rng.integers(rooms))
            prior = in_room(query.T_world_camera, room)
            result = localizer.localize(query.image, query.intrinsics, q, prior=prior)
            localized += result.localized
            for stage in ("retrieve", "match", "pose"):
                stages[stage].append(result.timings.get(stage, 0.0) * 1000)
            stages["frame"].append(sum(result.timings.values()) * 1000)
        peak, current = rss_mb()
        p50 = {stage: float(np.percentile(values, 50)) for stage, values in stages.items()}
        p95 = float(np.percentile(stages["frame"], 95))
        print(f"| {size} | {build_s:.1f} | {open_s:.2f} | {p50['retrieve']:.1f} | {p50['match']:.1f} | "
              f"{p50['pose']:.1f} | {p50['frame']:.0f} / {p95:.0f} | {localized}/{args.queries} | {peak:.0f} | "
              f"{current:.0f} | {localizer.map.feature_cache_bytes / 2**20:.0f} |", flush=True)  # fmt: skip
        store.close()
        del localizer
    return 0
