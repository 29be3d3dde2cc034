"""The one entry point of the core: an image in, a :class:`LocalizationResult` out.

The pipeline only: check the input, retrieve ranked keyframes, match them (a cascade: the best-ranked
first, the next ones only while no pose passes the gates with margin), solve the pose
(:mod:`loftr_ros.localization.solvers`), apply the gates. The map itself (store or memory, caches,
descriptors, retrieval index) is :class:`~loftr_ros.localization.keyframe_map.KeyframeMap`.

Each stage is timed in ``result.timings`` (seconds): ``retrieve``, ``match``, ``pose`` (summed over the
cascade's steps). The node and the offline tools use it the same way::

    localizer = Localizer(KeyframeStore("map.db"), matcher, LocalizerConfig())
    result = localizer.localize(image, intrinsics, stamp_ns, prior=None)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

import numpy as np

from loftr_ros.errors import LocalizationError
from loftr_ros.localization import gates as gates_mod
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.localization.keyframe_map import KeyframeMap, as_numpy
from loftr_ros.localization.solvers import solve
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    Matcher,
    MatchSet,
)

logger = logging.getLogger("loftr_ros.localization")


class Localizer:
    """Localizes query images against a keyframe map.

    Args:
        keyframes: a :class:`KeyframeStore` (keyframes load lazily) or keyframes in memory.
        matcher: see :class:`~loftr_ros.localization.types.Matcher`; its ``describe`` ranks keyframes.
        config: the whole core's configuration; validated here.
    """

    def __init__(
        self,
        keyframes: KeyframeStore | Iterable[Keyframe],
        matcher: Matcher,
        config: LocalizerConfig | None = None,
    ) -> None:
        self.config = config or LocalizerConfig()
        self.config.validate()
        self.matcher = matcher
        self.map = KeyframeMap(keyframes, matcher, self.config)
        logger.info("localizer ready: %d keyframes, config %s", len(self.map), self.config)

    # -- the map, through the localizer (what the node and the tools use) ----------------------------

    def __len__(self) -> int:
        return len(self.map)

    @property
    def descriptor_source(self) -> str:
        return self.map.descriptor_source

    def add_keyframe(self, keyframe: Keyframe, *, replace: bool = False) -> None:
        self.map.add(keyframe, replace=replace)

    def remove_keyframe(self, keyframe_id: str) -> bool:
        return self.map.remove(keyframe_id)

    def clear(self) -> int:
        return self.map.clear()

    def save(self, path: str | os.PathLike[str]) -> int:
        return self.map.save(path)

    def keyframe(self, keyframe_id: str) -> Keyframe:
        return self.map.keyframe(keyframe_id)

    def reconfigure(self, config: LocalizerConfig) -> None:
        """Switch to a new configuration (validated first); the map and its caches are kept."""
        config.validate()
        self.config = config
        self.map.reconfigure(config)

    # -- localization ---------------------------------------------------------------------------------

    def localize(
        self,
        image: np.ndarray,
        intrinsics: CameraIntrinsics,
        stamp_ns: int,
        prior: np.ndarray | None = None,
    ) -> LocalizationResult:
        """Localize one query image.

        Args:
            image: (H, W) or (H, W, 3) uint8 RGB query.
            intrinsics: the query's calibration (pixel (0, 0) = centre of the top-left pixel).
            stamp_ns: the query's stamp (logged; the result refers to it).
            prior: (4, 4) T_map_camera guess, or None; narrows retrieval and enables the jump gate.

        Returns:
            A result in every case; ``state`` and ``reason`` say why it is not localized. Never raises for
            a frame that merely fails to localize.
        """
        timings: dict[str, float] = {"retrieve": 0.0}
        reason = self._check_input(image, intrinsics, prior)
        if reason:
            return LocalizationResult(LocalizationState.REJECTED, reason=reason, timings={})
        t0 = time.perf_counter()
        ids, reason = self._retrieve(image, prior)
        timings["retrieve"] = time.perf_counter() - t0
        if not ids:
            return LocalizationResult(LocalizationState.NO_KEYFRAMES, reason=reason, timings=timings)
        timings["match"] = timings["pose"] = 0.0
        steps = [[i] for i in ids] if self.config.cascade else [ids]
        matched: list[MatchSet] = []
        best: LocalizationResult | None = None
        for step in steps:
            t0 = time.perf_counter()
            matched += self._match(image, step)
            timings["match"] += time.perf_counter() - t0
            result = self._attempt(matched, intrinsics, prior, timings)
            if result.localized:
                best = result
                if result.num_inliers >= self.config.cascade_margin * self.config.gates.min_inliers:
                    break
        result = best if best is not None and not result.localized else result
        result.keyframe_ids = [m.keyframe_id for m in result.matches]
        logger.debug(
            "frame %d: %s %s (%d keyframes, %d matches, %d inliers)", stamp_ns, result.state.name, result.reason,
            len(result.matches), result.num_matches, result.num_inliers,
        )  # fmt: skip
        return result

    def _attempt(
        self,
        matched: list[MatchSet],
        intrinsics: CameraIntrinsics,
        prior: np.ndarray | None,
        timings: dict[str, float],
    ) -> LocalizationResult:
        """A pose from the keyframes matched so far, gated; the result shares ``timings``."""
        num_matches = sum(len(m) for m in matched)
        result = LocalizationResult(
            LocalizationState.NOT_LOCALIZED, matches=list(matched), num_matches=num_matches, timings=timings,
        )  # fmt: skip
        reason = gates_mod.check_matches(num_matches, self.config.gates)
        if reason:
            result.reason = reason
            return result
        t0 = time.perf_counter()
        solve(result, intrinsics, self.map.keyframe, self.config)
        timings["pose"] += time.perf_counter() - t0
        if result.T_map_camera is None:
            return result
        reason = gates_mod.check_pose(
            result.num_matches, result.num_inliers, result.reprojection_rmse_px, result.T_map_camera,
            self.config.gates, prior,
        )  # fmt: skip
        if reason:
            result.reason = reason
            result.T_map_camera, result.covariance = None, None
            return result
        result.state = LocalizationState.LOCALIZED
        return result

    def _check_input(self, image: np.ndarray, intrinsics: CameraIntrinsics, prior: np.ndarray | None) -> str:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
            return "image must be a uint8 (H, W) or (H, W, 3) array"
        if image.shape[:2] != (intrinsics.height, intrinsics.width):
            h, w = image.shape[:2]
            return f"image is {w}x{h} but intrinsics say {intrinsics.width}x{intrinsics.height}"
        if not (intrinsics.fx > 0 and intrinsics.fy > 0 and np.isfinite([intrinsics.cx, intrinsics.cy]).all()):
            return "intrinsics need positive focal lengths and a finite principal point"
        if intrinsics.has_distortion and len(intrinsics.distortion) not in (4, 5, 8, 12, 14):
            return f"distortion needs 4, 5, 8, 12 or 14 coefficients, got {len(intrinsics.distortion)}"
        if prior is not None and (np.shape(prior) != (4, 4) or not np.all(np.isfinite(prior))):
            return "prior must be a finite (4, 4) T_map_camera"
        return ""

    def _retrieve(self, image: np.ndarray, prior: np.ndarray | None) -> tuple[list[str], str]:
        """Keyframe ids, best first: by descriptor similarity (gated by the prior when there is one)."""
        index = self.map.index
        if len(index) == 0:
            return [], "the map has no keyframes"
        if index.dim == 0:  # keyframes without descriptors: only a prior can choose
            if prior is None:
                if len(index) <= self.config.retrieval.top_k:
                    return index.ids, ""
                return [], "no keyframe descriptors and no pose prior: cannot choose keyframes"
            candidates = index.query(None, prior)
        else:
            # the query's descriptor (for LoFTR its backbone pass, reused by matching) ranks the keyframes
            descriptor = as_numpy(self.matcher.describe(image))
            small_map = prior is None and len(index) <= self.config.retrieval.top_k
            candidates = index.query(descriptor, prior, k=len(index) if small_map else None)
            if small_map:  # nothing to choose between: every keyframe is tried, best first
                ranked = [c.id for c in candidates]
                return ranked + [i for i in index.ids if i not in ranked], ""
        if not candidates:
            return [], "no keyframe passed retrieval (prior gating or similarity threshold)"
        return [c.id for c in candidates], ""

    def _match(self, image: np.ndarray, ids: list[str]) -> list[MatchSet]:
        features = [self.map.features(i) for i in ids]
        pairs = self.matcher.match(image, features)
        if len(pairs) != len(ids):
            msg = f"matcher returned {len(pairs)} results for {len(ids)} keyframes"
            raise LocalizationError(msg)
        out = []
        min_conf = self.config.pose.min_confidence
        for keyframe_id, pm in zip(ids, pairs, strict=True):
            kq = as_numpy(pm.keypoints0).reshape(-1, 2)
            kk = as_numpy(pm.keypoints1).reshape(-1, 2)
            conf = as_numpy(pm.confidence).reshape(-1)
            keep = conf >= min_conf
            out.append(MatchSet(keyframe_id, kq[keep], kk[keep], conf[keep], np.zeros(int(keep.sum()), bool)))
        return out


__all__ = ["Localizer"]
