"""Time top-k retrieval over a large keyframe index, and measure recall@k on a synthetic sequence.

Latency: random 256-d descriptors for 100k keyframes (cosine by one matrix-vector product +
argpartition); prints median, p95 and max per query. Recall (``--recall``): a room whose wall points
carry random feature vectors; each view's coarse feature map (C, H/8, W/8) is splatted from the points it
sees and pooled with :func:`gem_descriptor`, the same path as LoFTR's coarse maps. Keyframes lie along
one loop, queries along a second, offset loop; a retrieved keyframe is correct within 1 m and 30 deg.
Replace the feature maps by the matcher's once ``loftr_ros.synthetic`` renders images.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from loftr_ros.localization.config import RetrievalConfig
from loftr_ros.localization.retrieval import RetrievalIndex, gem_descriptor, recall_at_k

logger = logging.getLogger("loftr_ros.tools.benchmark_retrieval")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keyframes", type=int, default=100_000, help="keyframes in the index")
    parser.add_argument("--dim", type=int, default=256, help="descriptor dimension (LoFTR coarse: 256)")
    parser.add_argument("--top-k", type=int, default=5, help="keyframes returned per query")
    parser.add_argument("--queries", type=int, default=200, help="timed queries")
    parser.add_argument("--with-prior", action="store_true", help="also gate by a pose prior")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--recall", action="store_true", help="also report recall@1/5/10 on a synthetic sequence")


def _look(position: np.ndarray, yaw: float) -> np.ndarray:
    """T_map_camera of an optical camera at ``position`` looking horizontally along ``yaw`` (map z up)."""
    z = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    x = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    T = np.eye(4)
    T[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    T[:3, 3] = position
    return T


def synthetic_recall(
    seed: int = 0,
    keyframes: int = 120,
    queries: int = 100,
    channels: int = 64,
    ks: tuple[int, ...] = (1, 5, 10),
) -> dict[int, float]:
    """Recall@k of GeM descriptors on a synthetic room sequence (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = 6000
    side, s, h = rng.integers(0, 4, n), rng.uniform(-6, 6, n), rng.uniform(0, 3, n)
    X = np.where(
        (side < 2)[:, None],
        np.stack([s, np.where(side == 0, 6.0, -6.0), h], 1),
        np.stack([np.where(side == 2, 6.0, -6.0), s, h], 1),
    )
    feats = rng.gamma(0.3, 1.0, (n, channels)).astype(np.float32)  # sparse-ish, non-negative like ReLU maps
    K = np.array([[250.0, 0, 159.5], [0, 250.0, 119.5], [0, 0, 1]])
    grid_h, grid_w = 30, 40

    def descriptor(T: np.ndarray) -> np.ndarray:
        R, c = T[:3, :3], T[:3, 3]
        Xc = (X - c) @ R
        z = Xc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u, v = K[0, 0] * Xc[:, 0] / z + K[0, 2], K[1, 1] * Xc[:, 1] / z + K[1, 2]
        vis = (z > 0.2) & (u >= 0) & (u < 320) & (v >= 0) & (v < 240)
        fmap = rng.gamma(0.3, 0.2, (channels, grid_h, grid_w)).astype(np.float32)  # clutter and noise
        np.add.at(fmap, (slice(None), (v[vis] / 8).astype(int), (u[vis] / 8).astype(int)), feats[vis].T)
        return gem_descriptor(fmap)

    def loop(count: int, radius: float, phase: float, yaw_noise: float) -> list[np.ndarray]:
        out = []
        for a in np.linspace(0, 2 * np.pi, count, endpoint=False) + phase:
            pos = np.array([radius * np.cos(a), radius * np.sin(a), 1.5])
            out.append(_look(pos, a + np.pi / 2 + rng.normal(0, yaw_noise)))
        return out

    kf_poses = loop(keyframes, 3.0, 0.0, 0.05)
    q_poses = loop(queries, 3.3, 0.013, 0.15)
    db = np.stack([descriptor(T) for T in kf_poses])
    qd = np.stack([descriptor(T) for T in q_poses])
    positives = []
    for T in q_poses:
        ok = [
            i for i, Tk in enumerate(kf_poses)
            if np.linalg.norm(Tk[:3, 3] - T[:3, 3]) < 1.0 and Tk[:3, 2] @ T[:3, 2] > np.cos(np.deg2rad(30))
        ]  # fmt: skip
        positives.append(ok)
    return recall_at_k(qd, db, positives, ks)


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
        recall = synthetic_recall(seed=args.seed)
        print(
            "recall on a synthetic room sequence (GeM of splatted coarse features): "
            + ", ".join(f"@{k} {v:.3f}" for k, v in recall.items())
        )
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
