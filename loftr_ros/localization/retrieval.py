"""Top-k keyframe retrieval by a global appearance descriptor (cosine) and an optional pose prior.

The index is a contiguous (N, D) float32 matrix of L2-normalised descriptors: one matrix-vector product
and an ``argpartition`` rank 100k keyframes in a few milliseconds on a CPU, so no ANN library is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loftr_ros.errors import LocalizationError
from loftr_ros.localization.config import RetrievalConfig

logger = logging.getLogger("loftr_ros.localization")


def gem_descriptor(features: object, p: float = 3.0, eps: float = 1e-6) -> np.ndarray:
    """Generalised-mean (GeM) pooled, L2-normalised global descriptor of a feature map.

    Args:
        features: (C, H, W) feature map (numpy array or torch tensor), e.g. LoFTR's coarse features of
            one image. A leading batch dimension of 1 is accepted.
        p: GeM exponent; 1 is average pooling, large values approach max pooling.
        eps: features are clamped to at least this before the power (GeM needs positive values).

    Returns:
        (C,) float32 unit vector; compare two with a dot product (cosine similarity).
    """
    if hasattr(features, "detach"):
        features = features.detach().float().cpu().numpy()
    x = np.asarray(features, dtype=np.float32)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3 or x.shape[1] * x.shape[2] == 0:
        msg = f"gem_descriptor needs a (C, H, W) feature map, got shape {x.shape}"
        raise LocalizationError(msg)
    if p <= 0:
        raise LocalizationError(f"gem_descriptor needs p > 0, got {p}")
    pooled = np.power(np.clip(x, eps, None).reshape(x.shape[0], -1), p).mean(axis=1) ** (1.0 / p)
    return l2_normalise(pooled)


def thumbnail_descriptor(image: np.ndarray, size: tuple[int, int] = (32, 24)) -> np.ndarray:
    """A "tiny image" global descriptor: the grey image shrunk to ``size`` (w, h), blurred, zero-mean,
    L2-normalised, (w*h,) float32.

    The fallback for matchers without a learned descriptor (SIFT, ORB): it finds keyframes taken from
    nearby viewpoints, not wide-baseline ones. Use :func:`gem_descriptor` of LoFTR's coarse features
    where available (``loftr_ros.matchers.LoFTRLocalizationMatcher.describe``).
    """
    import cv2

    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(img.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    return l2_normalise((small - small.mean()).reshape(-1))




def l2_normalise(v: np.ndarray) -> np.ndarray:
    """Rows (or a vector) scaled to unit length, float32; zero vectors stay zero."""
    v = np.asarray(v, dtype=np.float32)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-12)


@dataclass(frozen=True)
class Candidate:
    """A retrieved keyframe: id, descriptor cosine (NaN without a descriptor), distance to the prior."""

    id: str
    similarity: float
    distance_m: float = float("nan")


class RetrievalIndex:
    """Descriptors and poses of the map's keyframes, ranked against a query.

    Keyframes without a descriptor can be added (``descriptor=None``): they are found only through a
    pose prior.
    """

    def __init__(self, config: RetrievalConfig | None = None) -> None:
        self.config = config or RetrievalConfig()
        self.config.validate()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._desc = np.zeros((0, 0), np.float32)
        self._has_desc = np.zeros(0, bool)
        self._pos = np.zeros((0, 3))
        self._dir = np.zeros((0, 3))

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def dim(self) -> int:
        return int(self._desc.shape[1])

    def build(
        self,
        ids: Sequence[str],
        descriptors: np.ndarray | None,
        poses: np.ndarray,
        has_descriptor: np.ndarray | None = None,
    ) -> None:
        """Replace the index: ``descriptors`` (N, D) (L2-normalised here) or None, ``poses`` (N, 4, 4);
        ``has_descriptor`` (N,) bool marks rows without one (default: the non-zero rows)."""
        n = len(ids)
        poses = np.asarray(poses, dtype=np.float64).reshape(n, 4, 4)
        self._ids = list(ids)
        self._row = {k: i for i, k in enumerate(self._ids)}
        if len(self._row) != n:
            raise LocalizationError("RetrievalIndex.build: keyframe ids are not unique")
        if descriptors is None or n == 0:
            self._desc = np.zeros((n, 0), np.float32)
            self._has_desc = np.zeros(n, bool)
        else:
            d = np.asarray(descriptors, dtype=np.float32)
            if d.shape[0] != n:
                raise LocalizationError(f"RetrievalIndex.build: {n} ids but {d.shape[0]} descriptors")
            self._desc = np.ascontiguousarray(l2_normalise(d))
            has = np.linalg.norm(d, axis=1) > 0
            self._has_desc = has if has_descriptor is None else has & np.asarray(has_descriptor, bool)
        self._pos = np.ascontiguousarray(poses[:, :3, 3])
        self._dir = np.ascontiguousarray(poses[:, :3, 2])

    def add(self, keyframe_id: str, descriptor: np.ndarray | None, T_map_camera: np.ndarray) -> None:
        """Append (or replace) one keyframe; amortised cost is one row copy of the matrix."""
        if keyframe_id in self._row:
            self.remove(keyframe_id)
        T = np.asarray(T_map_camera, dtype=np.float64)
        if descriptor is not None:
            d = l2_normalise(np.asarray(descriptor).reshape(-1))
            if self._desc.shape[1] == 0 and not self._has_desc.any():
                self._desc = np.zeros((len(self._ids), d.shape[0]), np.float32)
            elif d.shape[0] != self._desc.shape[1]:
                dims = self._desc.shape[1]
                msg = f"descriptor of {keyframe_id!r} has {d.shape[0]} dims, the index has {dims}"
                raise LocalizationError(msg)
        else:
            d = np.zeros(self._desc.shape[1], np.float32)
        self._row[keyframe_id] = len(self._ids)
        self._ids.append(keyframe_id)
        self._desc = np.ascontiguousarray(np.vstack([self._desc, d[None]]))
        self._has_desc = np.append(self._has_desc, descriptor is not None)
        self._pos = np.vstack([self._pos, T[None, :3, 3]])
        self._dir = np.vstack([self._dir, T[None, :3, 2]])

    def remove(self, keyframe_id: str) -> bool:
        i = self._row.pop(keyframe_id, None)
        if i is None:
            return False
        del self._ids[i]
        self._row = {k: j for j, k in enumerate(self._ids)}
        self._desc = np.ascontiguousarray(np.delete(self._desc, i, axis=0))
        self._has_desc = np.delete(self._has_desc, i)
        self._pos = np.delete(self._pos, i, axis=0)
        self._dir = np.delete(self._dir, i, axis=0)
        return True

    def query(
        self,
        descriptor: np.ndarray | None = None,
        prior: np.ndarray | None = None,
        k: int | None = None,
    ) -> list[Candidate]:
        """The top-k keyframes for a query, best first.

        Args:
            descriptor: (D,) global descriptor of the query, or None.
            prior: (4, 4) T_map_camera prior of the query, or None. With a prior, keyframes farther than
                ``prior_max_distance_m`` or whose optical axis differs by more than ``prior_max_angle_deg``
                are skipped.
            k: how many; ``config.top_k`` by default.

        Ranking: by cosine when a descriptor is given (keyframes without a descriptor are skipped, or with
        a prior ranked last), otherwise by distance to the prior. With neither, raises LocalizationError.
        """
        k = self.config.top_k if k is None else int(k)
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        if descriptor is None and prior is None:
            raise LocalizationError("retrieval needs a query descriptor, a pose prior, or both")
        use_desc = descriptor is not None and self._desc.shape[1] > 0
        dist = None
        keep = None  # None: every row is a candidate (the fast path: one matrix-vector product)
        if prior is not None:  # column-wise arithmetic: no (N, 3) temporaries
            T = np.asarray(prior, dtype=np.float64)
            pos, view = self._pos.T, self._dir.T
            (px, py, pz), (vx, vy, vz) = T[:3, 3], T[:3, 2]
            dist = np.sqrt((pos[0] - px) ** 2 + (pos[1] - py) ** 2 + (pos[2] - pz) ** 2)
            cos_view = view[0] * vx + view[1] * vy + view[2] * vz
            keep = (dist <= self.config.prior_max_distance_m) & (
                cos_view >= np.cos(np.deg2rad(self.config.prior_max_angle_deg))
            )
        if use_desc:
            q = l2_normalise(np.asarray(descriptor).reshape(-1))
            if q.shape[0] != self._desc.shape[1]:
                msg = f"query descriptor has {q.shape[0]} dims, the index has {self._desc.shape[1]}"
                raise LocalizationError(msg)
            if keep is not None and np.count_nonzero(keep) < n // 4:  # few gated rows: score only those
                score = np.full(n, -np.inf, np.float32)
                rows = np.nonzero(keep)[0]
                score[rows] = self._desc[rows] @ q
            else:
                score = self._desc @ q  # cosine: rows and query are unit vectors
            sim = score
            if not self._has_desc.all():
                if keep is None:  # appearance only: rows without a descriptor cannot be ranked
                    keep = self._has_desc
                else:  # with a prior they stay candidates, ranked after every described one
                    score = np.where(self._has_desc, score, np.float32(-2.0))
        elif prior is not None:
            sim = None
            score = -dist
        else:
            return []
        if keep is not None:
            score = np.where(keep, score, -np.inf)
        k = min(k, n)
        top = np.argpartition(score, n - k)[n - k :] if k < n else np.arange(n)
        top = top[np.argsort(-score[top], kind="stable")]
        out = []
        for i in top:
            if not np.isfinite(score[i]):
                continue
            similarity = float(sim[i]) if sim is not None and self._has_desc[i] else float("nan")
            if similarity < self.config.min_similarity:  # False for NaN: undescribed rows stay
                continue
            out.append(Candidate(self._ids[i], similarity, float(dist[i]) if dist is not None else float("nan")))
        return out


def recall_at_k(
    query_descriptors: np.ndarray,
    database_descriptors: np.ndarray,
    positives: Sequence[Sequence[int]] | np.ndarray,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[int, float]:
    """Fraction of queries with at least one true positive among their top-k database entries.

    Args:
        query_descriptors: (Q, D).
        database_descriptors: (N, D).
        positives: for each query, the database rows that count as correct (e.g. within 2 m and 30 deg).
        ks: the k values to report.
    """
    q = l2_normalise(query_descriptors)
    db = l2_normalise(database_descriptors)
    order = np.argsort(-(q @ db.T), axis=1, kind="stable")
    out = {}
    for k in ks:
        hits = [bool(set(order[i, :k].tolist()) & set(np.asarray(positives[i]).tolist())) for i in range(len(q))]
        out[int(k)] = float(np.mean(hits)) if hits else float("nan")
    return out
