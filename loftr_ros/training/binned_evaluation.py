"""Where a matcher fails: relative-pose AUC, matches and inliers per bin of viewpoint, roll, scale, overlap.

Held-out synthetic pairs (:func:`loftr_ros.synthetic.wide_pairs.sample_wide_pair` from seeds training
never draws, textured with scikit-image's photos only, so every machine renders the same pairs) are
binned by their true relative rotation, in-plane roll, scale change and overlap; real pairs can be binned
by their time gap. Every method's matches go through the same PoseLib relative pose as
:mod:`loftr_ros.training.evaluation`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from loftr_ros.training.evaluation import evaluate_pair, pose_auc

HELD_OUT_WIDE_SEED = 2_000_000  # wide pairs from here on are never drawn in training

# (axis name, bin edges): a pair falls into [low, high) of each axis
BINS: dict[str, tuple[float, ...]] = {
    "rotation (deg)": (0.0, 15.0, 30.0, 60.0),
    "in-plane roll (deg)": (0.0, 10.0, 20.0, 40.0),
    "scale change (x)": (1.0, 1.25, 1.6, 2.5),
    "overlap": (0.1, 0.3, 0.5, 0.9),
}


@dataclass
class EvalPair:
    """One image pair with its ground truth and the attributes it is binned by."""

    name: str
    image0: np.ndarray
    image1: np.ndarray
    K0: np.ndarray
    K1: np.ndarray
    T_0to1: np.ndarray
    attributes: dict[str, float] = field(default_factory=dict)  # what the pair is binned by, e.g. "overlap"


@dataclass
class PairScore:
    pose_error: float  # degrees, inf when no pose
    matches: int
    inliers: int


def rotation_deg(T_0to1: np.ndarray) -> float:
    """Angle of the relative rotation, degrees."""
    cos = (np.trace(T_0to1[:3, :3]) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def roll_deg(T_0to1: np.ndarray) -> float:
    """|In-plane rotation| between the views: the turn of camera 0's x axis about camera 1's optical axis."""
    x_in_1 = T_0to1[:3, :3] @ np.array([1.0, 0.0, 0.0])
    return abs(math.degrees(math.atan2(x_in_1[1], x_in_1[0])))


def scale_change(depth0: np.ndarray, K0: np.ndarray, K1: np.ndarray, T_0to1: np.ndarray, depth1: np.ndarray) -> float:
    """Median ratio of a co-visible point's depth in the farther view over the nearer one (>= 1)."""
    h, w = depth0.shape
    ys, xs = np.mgrid[4:h:8, 4:w:8]
    z0 = depth0[ys, xs].ravel()
    keep = z0 > 0
    pts = np.stack([xs.ravel()[keep], ys.ravel()[keep], np.ones(keep.sum())]) * z0[keep]
    p1 = T_0to1[:3, :3] @ (np.linalg.inv(K0) @ pts) + T_0to1[:3, 3:4]
    z1 = p1[2]
    uv = (K1 @ p1)[:2] / np.where(z1 > 0, z1, 1.0)
    inside = (z1 > 0) & (uv[0] >= 0) & (uv[0] <= w - 1) & (uv[1] >= 0) & (uv[1] <= h - 1)
    if inside.sum() < 5:
        return float("nan")
    seen = depth1[np.round(uv[1, inside]).astype(int), np.round(uv[0, inside]).astype(int)]
    visible = np.abs(seen - z1[inside]) < 0.05 * z1[inside]
    if visible.sum() < 5:
        return float("nan")
    ratio = float(np.median(z1[inside][visible] / z0[keep][inside][visible]))
    return max(ratio, 1.0 / ratio)


def held_out_wide_pairs(count: int, width: int = 320, height: int = 240) -> Iterable[EvalPair]:
    """``count`` held-out relocalization-range pairs with their rotation, roll, scale and overlap."""
    import dataclasses

    from loftr_ros.synthetic.scene import INDOOR_SCENE
    from loftr_ros.synthetic.wide_pairs import WidePairConfig, sample_wide_pair

    scene_config = dataclasses.replace(INDOOR_SCENE, extra_texture_dir=None)
    # stratified, so that every bin holds pairs: orbits of 0-15, 15-30, 30-60 deg and rolls up to 10, 20, 30 deg
    strata = [((0.0, 15.0), 10.0), ((15.0, 30.0), 20.0), ((30.0, 60.0), 30.0)]
    for i in range(count):
        orbit, roll = strata[i % 3]
        config = WidePairConfig(width=width, height=height, orbit_deg=orbit, roll_deg=roll)
        sample = sample_wide_pair(HELD_OUT_WIDE_SEED + i, config, scene_config)
        v0, v1 = sample.view0, sample.view1
        attributes = {
            "rotation (deg)": rotation_deg(sample.T_0to1),
            "in-plane roll (deg)": roll_deg(sample.T_0to1),
            "scale change (x)": scale_change(v0.depth, v0.intrinsics.K, v1.intrinsics.K, sample.T_0to1, v1.depth),
            "overlap": sample.overlap,
        }
        yield EvalPair(f"wide/{i}", v0.image, v1.image, v0.intrinsics.K, v1.intrinsics.K, sample.T_0to1, attributes)


def score_pairs(pairs: Sequence[EvalPair], match: Callable[[np.ndarray, np.ndarray], object]) -> list[PairScore]:
    """Each pair's pose error, match and inlier counts for one method (``match`` returns keypoints0/1)."""
    scores = []
    for pair in pairs:
        m = match(pair.image0, pair.image1)
        result = evaluate_pair(
            m.keypoints0, m.keypoints1, pair.K0, pair.K1, pair.T_0to1,
            image_size0=pair.image0.shape[1::-1], image_size1=pair.image1.shape[1::-1],
        )  # fmt: skip
        scores.append(PairScore(result.pose_error, result.num_matches, result.num_inliers))
    return scores


@dataclass
class BinRow:
    axis: str
    label: str
    method: str
    pairs: int
    auc: dict[str, float]
    matches: float  # mean per pair
    inliers: float  # mean per pair


def summarise(scores: Sequence[PairScore], method: str, axis: str, label: str) -> BinRow:
    if not scores:
        return BinRow(axis, label, method, 0, {}, float("nan"), float("nan"))
    return BinRow(
        axis, label, method, len(scores), pose_auc([s.pose_error for s in scores]),
        float(np.mean([s.matches for s in scores])), float(np.mean([s.inliers for s in scores])),
    )  # fmt: skip


def bin_rows(
    pairs: Sequence[EvalPair],
    scores: dict[str, list[PairScore]],
    bins: dict[str, tuple[float, ...]] = BINS,
    discrete: bool = False,
) -> list[BinRow]:
    """One row per (axis, bin, method); a pair is in [low, high) of each axis it has an attribute for.

    ``discrete``: the attribute takes the bins' low edges only (e.g. a time gap), so a bin is named by it.
    """
    rows = []
    for axis, edges in bins.items():
        for low, high in itertools.pairwise(edges):
            chosen = [i for i, p in enumerate(pairs) if axis in p.attributes and low <= p.attributes[axis] < high]
            if not chosen:
                continue
            for method, method_scores in scores.items():
                label = f"{low:g}" if discrete else f"{low:g}-{high:g}"
                rows.append(summarise([method_scores[i] for i in chosen], method, axis, label))
    return rows


@dataclass
class AucDifference:
    """AUC of method a minus method b on the same pairs, in percent, with a paired-bootstrap 95% interval."""

    a: str
    b: str
    threshold: float  # degrees
    difference: float
    low: float
    high: float

    def __str__(self) -> str:
        verdict = "no clear difference" if self.low <= 0.0 <= self.high else ("better" if self.low > 0 else "worse")
        return (
            f"{self.a} - {self.b}: AUC@{self.threshold:g} {self.difference:+.1f} points "
            f"(95% interval {self.low:+.1f} .. {self.high:+.1f}: {verdict})"
        )


def paired_auc_difference(
    a: tuple[str, Sequence[PairScore]],
    b: tuple[str, Sequence[PairScore]],
    threshold: float = 10.0,
    resamples: int = 2000,
    seed: int = 0,
) -> AucDifference:
    """Is a better than b, or is the gap what another draw of pairs would undo?

    A hundred pairs with AUCs near 10% move by several points when a few poses cross the threshold;
    resampling the pairs (the same ones for both methods) shows how far."""
    errors_a = np.array([s.pose_error for s in a[1]], np.float64)
    errors_b = np.array([s.pose_error for s in b[1]], np.float64)
    if len(errors_a) != len(errors_b) or not len(errors_a):
        msg = f"paired_auc_difference needs the same non-empty pairs, got {len(errors_a)} and {len(errors_b)}"
        raise ValueError(msg)
    key = f"auc@{threshold:g}"

    def gap(index: np.ndarray) -> float:
        return 100 * (pose_auc(errors_a[index], (threshold,))[key] - pose_auc(errors_b[index], (threshold,))[key])

    rng = np.random.default_rng(seed)
    draws = [gap(rng.integers(0, len(errors_a), len(errors_a))) for _ in range(resamples)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return AucDifference(a[0], b[0], threshold, gap(np.arange(len(errors_a))), float(low), float(high))


def markdown_table(rows: Sequence[BinRow]) -> str:
    """The rows as a Markdown table: AUC@5/10/20 in percent, mean matches and inliers per pair."""
    lines = [
        "| bin | method | pairs | AUC@5 | AUC@10 | AUC@20 | matches | inliers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    last = None
    for row in rows:
        where = f"{row.axis} {row.label}" if (row.axis, row.label) != last else ""
        last = (row.axis, row.label)
        auc = [100 * row.auc.get(k, float("nan")) for k in ("auc@5", "auc@10", "auc@20")]
        lines.append(
            f"| {where} | {row.method} | {row.pairs} | {auc[0]:.1f} | {auc[1]:.1f} | {auc[2]:.1f} | "
            f"{row.matches:.0f} | {row.inliers:.0f} |"
        )
    return "\n".join(lines)
