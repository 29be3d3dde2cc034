"""Time top-k retrieval over a large keyframe index, and measure recall@k on synthetic sequences.

Latency: random 256-d descriptors for 100k keyframes (cosine by one matrix-vector product +
argpartition); prints median, p95 and max per query. Recall (``--recall``): rendered sequences of
:mod:`loftr_ros.synthetic` (keyframes and queries along a loop through a room); keyframes and queries are
described by the localizer's descriptors (LoFTR's GeM-pooled coarse features with ``--weights``, and the
tiny-image fallback of SIFT/ORB); a retrieved keyframe is correct within 1 m and 30 degrees of the query.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Sequence

import numpy as np

from loftr_ros.localization.config import RetrievalConfig
from loftr_ros.localization.retrieval import RetrievalIndex, recall_at_k, thumbnail_descriptor
from loftr_ros.transforms import rotation_angle_deg

logger = logging.getLogger("loftr_ros.tools.benchmark_retrieval")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keyframes", type=int, default=100_000, help="keyframes in the index")
    parser.add_argument("--dim", type=int, default=256, help="descriptor dimension (LoFTR coarse: 256)")
    parser.add_argument("--top-k", type=int, default=5, help="keyframes returned per query")
    parser.add_argument("--queries", type=int, default=200, help="timed queries")
    parser.add_argument("--with-prior", action="store_true", help="also gate by a pose prior")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--recall", action="store_true", help="also report recall@1/3/5 on synthetic sequences")
    parser.add_argument("--weights", default="default", help="LoFTR weights for the recall's descriptors")


def synthetic_recall(
    describe: Callable[[np.ndarray], np.ndarray],
    seeds: Sequence[int] = (0, 1, 2),
    n_frames: int = 48,
    ks: Sequence[int] = (1, 3, 5),
    size: tuple[int, int] = (160, 120),
) -> dict[int, float]:
    """Recall@k of ``describe`` over rendered sequences: every other frame a keyframe, the rest queries."""
    from loftr_ros.synthetic.pairs import PairConfig, make_sequence

    recalls: dict[int, list[float]] = {k: [] for k in ks}
    for seed in seeds:
        sequence = make_sequence(seed, n_frames, keyframe_every=2, config=PairConfig(width=size[0], height=size[1]))
        db = np.stack([describe(v.image) for v in sequence.keyframes])
        queries = np.stack([describe(v.image) for v in sequence.queries])
        positives = []
        for q in sequence.queries:
            near = [
                i for i, k in enumerate(sequence.keyframes)
                if np.linalg.norm(k.T_world_camera[:3, 3] - q.T_world_camera[:3, 3]) < 1.0
                and rotation_angle_deg(k.T_world_camera[:3, :3].T @ q.T_world_camera[:3, :3]) < 30.0
            ]  # fmt: skip
            positives.append(near)
        for k, value in recall_at_k(queries, db, positives, ks).items():
            recalls[k].append(value)
    return {k: float(np.mean(v)) for k, v in recalls.items()}


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    n, d = args.keyframes, args.dim
    descriptors = rng.standard_normal((n, d), dtype=np.float32)
    poses = np.tile(np.eye(4), (n, 1, 1))
    poses[:, :3, 3] = rng.uniform(-100, 100, (n, 3))
    index = RetrievalIndex(RetrievalConfig(top_k=args.top_k, prior_max_distance_m=20.0, prior_max_angle_deg=90.0))
    index.build([f"kf{i}" for i in range(n)], descriptors, poses)
    queries = descriptors[rng.integers(0, n, args.queries)] + 0.1 * rng.standard_normal(
        (args.queries, d), dtype=np.float32
    )
    if args.recall:
        from loftr_ros.config import MatcherSettings
        from loftr_ros.matchers import create_matcher

        loftr = create_matcher(MatcherSettings(weights=args.weights, max_side=0))
        for name, describe in (("LoFTR GeM", loftr.describe), ("tiny image (SIFT/ORB)", thumbnail_descriptor)):
            recall = synthetic_recall(describe)
            print(f"recall on synthetic sequences, {name}: " + ", ".join(f"@{k} {v:.3f}" for k, v in recall.items()))
    prior = np.eye(4) if args.with_prior else None
    index.query(queries[0], prior)  # warm-up
    times = []
    for q in queries:
        t0 = time.perf_counter()
        index.query(q, prior)
        times.append(time.perf_counter() - t0)
    ms = 1000 * np.array(times)
    print(
        f"retrieval of top-{args.top_k} among {n} keyframes "
        f"({d}-d float32{', with pose prior' if prior is not None else ''}): "
        f"median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms, max {ms.max():.2f} ms "
        f"over {len(ms)} queries"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
