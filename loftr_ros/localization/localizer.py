"""The one entry point of the core: an image in, a :class:`LocalizationResult` out.

Stages, each timed in ``result.timings`` (seconds): ``retrieve`` (top-k keyframes by descriptor and/or
pose prior), ``match`` (the matcher against the keyframes' cached features), ``pose`` then the gates.

The pose stage, by what the map offers:

1. Keyframes with depth: their keypoints are back-projected into the map frame and all retrieved
   keyframes' 2D-3D correspondences go into one LO-RANSAC absolute pose; covariance from its inliers.
2. No depth: a relative pose (unit translation) to each keyframe filters the matches. Query pixels that
   are inliers in two posed keyframes (LoFTR's query keypoints are grid points, the same for every
   keyframe) are triangulated from those keyframes and solved as an absolute pose (metric, with a
   covariance that ignores the points' own uncertainty).
3. Otherwise the query's optical centre is intersected from the keyframes' rays (direction of each
   relative translation); rotation from the best keyframe; no covariance (``None``).
   One keyframe alone gives no scale: NOT_LOCALIZED.
The node and the offline tools use it the same way::

    localizer = Localizer(KeyframeStore("map.db"), matcher, LocalizerConfig())
    result = localizer.localize(image, intrinsics, stamp_ns, prior=None)
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from loftr_ros.errors import LocalizationError, MapError
from loftr_ros.localization import gates as gates_mod
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.localization.pose import (
    backproject,
    estimate_absolute_pose,
    estimate_relative_pose,
    intersect_rays,
    triangulate_points,
)
from loftr_ros.localization.retrieval import RetrievalIndex, gem_descriptor, thumbnail_descriptor
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    MatchSet,
)

logger = logging.getLogger("loftr_ros.localization")


class PairMatches(Protocol):
    """The matcher's result per keyframe: query (0) and keyframe (1) pixels (N, 2), confidence (N,)."""

    keypoints0: Any
    keypoints1: Any
    confidence: Any


@runtime_checkable
class Matcher(Protocol):
    """The matcher the localizer needs (``loftr_ros.loftr.Matcher`` fits; tests pass a fake).

    Optional extras, used when present: ``describe(image) -> (D,)`` global descriptor of an image;
    ``fingerprint: str`` plus ``features_to_arrays(features) -> dict[str, np.ndarray]`` and
    ``features_from_arrays(dict) -> features`` to cache keyframe features in the map file.
    """

    def extract(self, image: np.ndarray) -> Any: ...

    def match(self, query_image: np.ndarray, keyframes: Sequence[Any]) -> list[PairMatches]: ...


def coarse_describer(matcher: Matcher, p: float = 3.0) -> Callable[[np.ndarray], np.ndarray]:
    """A ``describe`` for :class:`Localizer`: GeM of the matcher's coarse features of an image.

    Works with any matcher whose ``extract`` returns an object with a ``coarse`` (1, C, h, w) map, e.g.
    ``loftr_ros.loftr.Matcher``. Costs one backbone pass per query on top of matching.
    """

    def describe(image: np.ndarray) -> np.ndarray:
        return gem_descriptor(matcher.extract(image).coarse, p=p)

    fingerprint = getattr(matcher, "fingerprint", "")
    if fingerprint:  # names the descriptors, so a map's stored ones from elsewhere are recomputed
        describe.descriptor_source = f"loftr-gem{p:g}-{fingerprint}"  # type: ignore[attr-defined]
    return describe


def _numpy(x: Any, dtype: type = np.float32) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


class Localizer:
    """Localizes query images against a keyframe map.

    Args:
        keyframes: a :class:`KeyframeStore` (keyframes load lazily, features may be cached in it) or
            keyframes in memory.
        matcher: see :class:`Matcher`.
        config: the whole core's configuration; validated here.
        describe: global descriptor of an image, (D,) float32; defaults to ``matcher.describe`` when the
            matcher has one, else :func:`thumbnail_descriptor` (a tiny-image fallback for SIFT/ORB; pass
            :func:`coarse_describer` for LoFTR). Keyframes and queries must use the same one. A map no
            larger than ``top_k`` is matched whole, without retrieval. Its ``descriptor_source`` (of the
            matcher for ``matcher.describe``) names it: a store whose descriptors came from another
            source has them recomputed (and rewritten unless read-only). Without one, stored
            descriptors are trusted.
    """

    def __init__(
        self,
        keyframes: KeyframeStore | Iterable[Keyframe],
        matcher: Matcher,
        config: LocalizerConfig | None = None,
        describe: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.config = config or LocalizerConfig()
        self.config.validate()
        self.matcher = matcher
        if describe is None and getattr(matcher, "describe", None) is not None:
            describe, source = matcher.describe, getattr(matcher, "descriptor_source", "")
        else:
            describe = describe or thumbnail_descriptor
            source = getattr(describe, "descriptor_source", "")
        self.describe, self.descriptor_source = describe, source
        self.store: KeyframeStore | None = keyframes if isinstance(keyframes, KeyframeStore) else None
        self._memory: dict[str, Keyframe] = {}
        self._features: OrderedDict[str, Any] = OrderedDict()
        self._kf_cache: OrderedDict[str, Keyframe] = OrderedDict()
        self.index = RetrievalIndex(self.config.retrieval)
        if self.store is not None:
            ids, descriptors, has_descriptor, poses = self.store.index_data()
            stored_source = self.store.descriptor_source
            other_source = bool(source) and stored_source != source
            if other_source and has_descriptor.any():
                logger.warning(
                    "map %s: its descriptors come from %r, this localizer's from %r; recomputing them",
                    self.store.path, stored_source or "an unrecorded source", source,
                )  # fmt: skip
                has_descriptor[:] = False
            self.index.build(ids, descriptors if has_descriptor.any() else None, poses, has_descriptor)
            self._describe_missing([i for i, has in zip(ids, has_descriptor, strict=True) if not has])
            if other_source and not self.store.readonly:
                self.store.set_descriptor_source(source)
        else:
            for kf in keyframes:
                self.add_keyframe(kf)
        fingerprint = getattr(matcher, "fingerprint", None)
        self._store_features = bool(
            self.store is not None
            and self.config.store.cache_features
            and fingerprint
            and hasattr(matcher, "features_to_arrays")
            and hasattr(matcher, "features_from_arrays")
        )
        logger.info("localizer ready: %d keyframes, config %s", len(self.index), self.config)

    # -- map ------------------------------------------------------------------------------------------

    def _describe_missing(self, keyframe_ids: list[str]) -> None:
        """Compute the descriptors a map was saved without (e.g. imported); stored unless it is read-only."""
        if not keyframe_ids or self.store is None:
            return
        logger.info("computing %d missing keyframe descriptors of %s", len(keyframe_ids), self.store.path)
        for keyframe_id in keyframe_ids:
            keyframe = self.store.get(keyframe_id)
            descriptor = _numpy(self.describe(keyframe.image))
            if not self.store.readonly:
                self.store.update(keyframe_id, descriptor=descriptor)
            self.index.add(keyframe_id, descriptor, keyframe.T_map_camera)

    def __len__(self) -> int:
        return len(self.index)

    def add_keyframe(self, keyframe: Keyframe, *, replace: bool = False) -> None:
        """Add a keyframe to the map (and the store); its descriptor is computed when missing."""
        if keyframe.descriptor is None and self.describe is not None:
            keyframe.descriptor = _numpy(self.describe(keyframe.image))
        if keyframe.descriptor is not None and self.index.dim and np.size(keyframe.descriptor) != self.index.dim:
            size = np.size(keyframe.descriptor)
            msg = f"keyframe {keyframe.id!r}: descriptor has {size} dims, the map's have {self.index.dim}"
            raise LocalizationError(msg)
        if self.store is not None:
            self.store.add(keyframe, replace=replace)
        else:
            if keyframe.id in self._memory and not replace:
                raise LocalizationError(f"keyframe {keyframe.id!r} exists; pass replace=True to overwrite")
            self._memory[keyframe.id] = keyframe
        self._features.pop(keyframe.id, None)
        self._kf_cache.pop(keyframe.id, None)
        self.index.add(keyframe.id, keyframe.descriptor, keyframe.T_map_camera)

    def remove_keyframe(self, keyframe_id: str) -> bool:
        self._features.pop(keyframe_id, None)
        self._kf_cache.pop(keyframe_id, None)
        self._memory.pop(keyframe_id, None)
        if self.store is not None:
            self.store.remove(keyframe_id)
        return self.index.remove(keyframe_id)

    def clear(self) -> int:
        """Remove every keyframe (from the store too); returns how many there were."""
        count = len(self.index)
        if self.store is not None:
            self.store.clear()
        self._memory.clear()
        self._features.clear()
        self._kf_cache.clear()
        self.index.build([], None, np.zeros((0, 4, 4)))
        return count

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the whole map to a SQLite map file, replacing it atomically; returns the keyframe count.

        A store-backed map is copied with SQLite's online backup (cached features included); saving to the
        store's own file is a no-op since every change is already committed there.
        """
        path = Path(path)
        if self.store is not None and path.resolve() == self.store.path.resolve():
            return len(self.store)
        tmp = path.with_name(path.name + ".saving")
        for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            stale.unlink(missing_ok=True)
        try:
            if self.store is not None:
                self.store.backup(tmp)
            else:
                with KeyframeStore(tmp, self.config.store) as out:
                    for kid in self.index.ids:
                        out.add(self._memory[kid])
                    if self.descriptor_source:
                        out.set_descriptor_source(self.descriptor_source)
            os.replace(tmp, path)
        except OSError as error:
            msg = f"could not save the map to {path}: {error}"
            raise MapError(msg) from None
        logger.info("saved %d keyframes to %s", len(self.index), path)
        return len(self.index)

    def reconfigure(self, config: LocalizerConfig) -> None:
        """Switch to a new configuration (validated first); the map and feature caches are kept."""
        config.validate()
        self.config = config
        self.index.config = config.retrieval
        while len(self._features) > config.feature_cache_size:
            self._features.popitem(last=False)
        while len(self._kf_cache) > config.keyframe_cache_size:
            self._kf_cache.popitem(last=False)

    def keyframe(self, keyframe_id: str) -> Keyframe:
        """A keyframe with pixels (decoded from the store on first use, then kept in a small LRU)."""
        if self.store is None:
            if keyframe_id not in self._memory:
                raise LocalizationError(f"the map has no keyframe {keyframe_id!r}")
            return self._memory[keyframe_id]
        kf = self._kf_cache.get(keyframe_id)
        if kf is None:
            kf = self.store.get(keyframe_id)
            self._kf_cache[keyframe_id] = kf
            while len(self._kf_cache) > self.config.keyframe_cache_size:
                self._kf_cache.popitem(last=False)
        else:
            self._kf_cache.move_to_end(keyframe_id)
        return kf

    def features(self, keyframe_id: str) -> Any:
        """A keyframe's matcher features: memory LRU, then the store (same fingerprint), then extract."""
        feats = self._features.get(keyframe_id)
        if feats is not None:
            self._features.move_to_end(keyframe_id)
            return feats
        fingerprint = getattr(self.matcher, "fingerprint", "")
        if self._store_features:
            arrays = self.store.get_features(keyframe_id, fingerprint)  # type: ignore[union-attr]
            if arrays is not None:
                feats = self.matcher.features_from_arrays(arrays)  # type: ignore[attr-defined]
        if feats is None:
            feats = self.matcher.extract(self.keyframe(keyframe_id).image)
            if self._store_features and not self.store.readonly:  # type: ignore[union-attr]
                arrays = self.matcher.features_to_arrays(feats)  # type: ignore[attr-defined]
                self.store.put_features(keyframe_id, fingerprint, arrays)  # type: ignore[union-attr]
        if self.config.feature_cache_size > 0:
            self._features[keyframe_id] = feats
            while len(self._features) > self.config.feature_cache_size:
                self._features.popitem(last=False)
        return feats

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
        timings: dict[str, float] = {}
        reason = self._check_input(image, intrinsics, prior)
        if reason:
            return LocalizationResult(LocalizationState.REJECTED, reason=reason, timings=timings)

        t0 = time.perf_counter()
        ids, reason = self._retrieve(image, prior)
        timings["retrieve"] = time.perf_counter() - t0
        if not ids:
            return LocalizationResult(LocalizationState.NO_KEYFRAMES, reason=reason, timings=timings)

        t0 = time.perf_counter()
        match_sets = self._match(image, ids)
        timings["match"] = time.perf_counter() - t0
        num_matches = sum(len(m) for m in match_sets)
        result = LocalizationResult(
            LocalizationState.NOT_LOCALIZED, keyframe_ids=ids, matches=match_sets, num_matches=num_matches,
            timings=timings,
        )  # fmt: skip
        reason = gates_mod.check_matches(num_matches, self.config.gates)
        if reason:
            result.reason = reason
            return result

        t0 = time.perf_counter()
        self._solve(result, intrinsics, prior)
        timings["pose"] = time.perf_counter() - t0
        logger.debug(
            "frame %d: %s %s (%d matches, %d inliers)", stamp_ns, result.state.name, result.reason,
            result.num_matches, result.num_inliers,
        )  # fmt: skip
        return result

    def _check_input(self, image: np.ndarray, intrinsics: CameraIntrinsics, prior: np.ndarray | None) -> str:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
            return "image must be a uint8 (H, W) or (H, W, 3) array"
        if image.shape[:2] != (intrinsics.height, intrinsics.width):
            h, w = image.shape[:2]
            return f"image is {w}x{h} but intrinsics say {intrinsics.width}x{intrinsics.height}"
        if not (intrinsics.fx > 0 and intrinsics.fy > 0 and np.isfinite([intrinsics.cx, intrinsics.cy]).all()):
            return "intrinsics need positive focal lengths and a finite principal point"
        if prior is not None and (np.shape(prior) != (4, 4) or not np.all(np.isfinite(prior))):
            return "prior must be a finite (4, 4) T_map_camera"
        return ""

    def _retrieve(self, image: np.ndarray, prior: np.ndarray | None) -> tuple[list[str], str]:
        if len(self.index) == 0:
            return [], "the map has no keyframes"
        if prior is None and len(self.index) <= self.config.retrieval.top_k:
            return self.index.ids, ""  # nothing to choose: match them all
        descriptor = None
        if self.describe is not None and self.index.dim > 0:
            descriptor = _numpy(self.describe(image))
        if descriptor is None and prior is None:
            return [], "no keyframe descriptors and no pose prior: cannot choose keyframes"
        candidates = self.index.query(descriptor, prior)
        if not candidates:
            return [], "no keyframe passed retrieval (prior gating or similarity threshold)"
        return [c.id for c in candidates], ""

    def _match(self, image: np.ndarray, ids: list[str]) -> list[MatchSet]:
        feats = [self.features(i) for i in ids]
        pairs = self.matcher.match(image, feats)
        if len(pairs) != len(ids):
            msg = f"matcher returned {len(pairs)} results for {len(ids)} keyframes"
            raise LocalizationError(msg)
        out = []
        min_conf = self.config.pose.min_confidence
        for kid, pm in zip(ids, pairs, strict=True):
            kq = _numpy(pm.keypoints0).reshape(-1, 2)
            kk = _numpy(pm.keypoints1).reshape(-1, 2)
            conf = _numpy(pm.confidence).reshape(-1)
            keep = conf >= min_conf
            out.append(MatchSet(kid, kq[keep], kk[keep], conf[keep], np.zeros(int(keep.sum()), bool)))
        return out

    def _solve(self, result: LocalizationResult, intrinsics: CameraIntrinsics, prior: np.ndarray | None) -> None:
        cfg = self.config
        with_depth = [m for m in result.matches if len(m) and self.keyframe(m.keyframe_id).depth is not None]
        if with_depth:
            self._solve_absolute(result, with_depth, intrinsics)
        else:
            self._solve_relative(result, intrinsics)
        if result.T_map_camera is None:
            return
        reason = gates_mod.check_pose(
            result.num_matches,
            result.num_inliers,
            result.reprojection_rmse_px,
            result.T_map_camera,
            cfg.gates,
            prior,
        )
        if reason:
            result.reason = reason
            result.T_map_camera, result.covariance = None, None
            return
        result.state = LocalizationState.LOCALIZED

    def _solve_absolute(self, result: LocalizationResult, sets: list[MatchSet], intrinsics: CameraIntrinsics) -> None:
        pts2d, pts3d, owners = [], [], []
        for m in sets:
            kf = self.keyframe(m.keyframe_id)
            X, valid = backproject(m.keypoints_keyframe, kf.depth, kf.intrinsics, kf.T_map_camera, self.config.pose)
            idx = np.nonzero(valid)[0]
            pts2d.append(m.keypoints_query[idx])
            pts3d.append(X[idx])
            owners.append((m, idx))
        uv, X = np.concatenate(pts2d), np.concatenate(pts3d)
        solution = estimate_absolute_pose(uv, X, intrinsics, self.config.pose) if len(uv) >= 4 else None
        if solution is None:
            result.reason = f"{gates_mod.TOO_FEW_INLIERS}: no absolute pose from {len(uv)} 2D-3D correspondences"
            return
        start = 0
        for m, idx in owners:
            m.inliers[idx] = solution.inliers[start : start + len(idx)]
            start += len(idx)
        result.T_map_camera = solution.T_map_camera
        result.covariance = solution.covariance
        result.num_inliers = solution.num_inliers
        result.reprojection_rmse_px = solution.rmse_px

    def _solve_bridged(self, result: LocalizationResult, intrinsics: CameraIntrinsics, ids: list[str]) -> bool:
        """Scale from structure: query pixels matched (as relative-pose inliers) in two posed keyframes are
        triangulated from those keyframes, then the query is solved as an absolute pose. Works when the
        query lies on the line between the keyframes, where intersecting camera rays cannot.
        Returns False (result untouched) when too few points triangulate."""
        cfg = self.config
        sets = {m.keyframe_id: m for m in result.matches}
        uv_all, X_all = [], []
        for i, a_id in enumerate(ids):
            for b_id in ids[i + 1 :]:
                ma, mb = sets[a_id], sets[b_id]
                index_b = {tuple(np.round(p, 1)): j for j, p in zip(np.nonzero(mb.inliers)[0],
                           mb.keypoints_query[mb.inliers], strict=True)}  # fmt: skip
                pairs = [(j, index_b[key]) for j in np.nonzero(ma.inliers)[0]
                         if (key := tuple(np.round(ma.keypoints_query[j], 1))) in index_b]  # fmt: skip
                if not pairs:
                    continue
                ja, jb = np.array(pairs).T
                ka, kb = self.keyframe(a_id), self.keyframe(b_id)
                X, valid = triangulate_points(
                    ma.keypoints_keyframe[ja], mb.keypoints_keyframe[jb], ka.intrinsics, kb.intrinsics,
                    ka.T_map_camera, kb.T_map_camera, cfg.pose.min_triangulation_angle_deg,
                    cfg.pose.max_reprojection_error_px,
                )  # fmt: skip
                uv_all.append(ma.keypoints_query[ja][valid])
                X_all.append(X[valid])
        n = sum(len(x) for x in X_all)
        if n < cfg.gates.min_inliers:
            return False
        solution = estimate_absolute_pose(np.concatenate(uv_all), np.concatenate(X_all), intrinsics, cfg.pose)
        if solution is None or solution.num_inliers < cfg.gates.min_inliers:
            return False
        result.T_map_camera = solution.T_map_camera
        result.covariance = solution.covariance  # ignores the triangulated points' own uncertainty
        result.reprojection_rmse_px = solution.rmse_px
        return True

    def _solve_relative(self, result: LocalizationResult, intrinsics: CameraIntrinsics) -> None:
        cfg = self.config
        solved = []
        for m in result.matches:
            if len(m) < 5:
                continue
            kf = self.keyframe(m.keyframe_id)
            rel = estimate_relative_pose(m.keypoints_keyframe, m.keypoints_query, kf.intrinsics, intrinsics, cfg.pose)
            if rel is not None and rel.num_inliers >= cfg.gates.min_inliers:
                m.inliers[:] = rel.inliers
                solved.append((rel, kf))
        solved.sort(key=lambda s: -s[0].num_inliers)
        result.num_inliers = sum(r.num_inliers for r, _ in solved)
        if len(solved) >= 2 and self._solve_bridged(result, intrinsics, [kf.id for _, kf in solved]):
            return
        if len(solved) < 2:
            result.reason = (
                f"{gates_mod.TOO_FEW_INLIERS}: no depth, and {len(solved)} keyframe(s) with a relative pose; "
                "two posed keyframes are needed for a metric position"
            )
            return
        origins = np.stack([kf.T_map_camera[:3, 3] for _, kf in solved])
        directions = np.stack([rel.centre_direction_in(kf.T_map_camera) for rel, kf in solved])
        point, angle, along = intersect_rays(origins, directions)
        if angle < cfg.pose.min_triangulation_angle_deg or np.any(along <= 0):
            result.reason = (
                f"no depth and the keyframes' rays to the query do not intersect well "
                f"(angle {angle:.1f} deg < {cfg.pose.min_triangulation_angle_deg} deg or behind a keyframe)"
            )
            return
        best_rel, best_kf = solved[0]
        T = np.eye(4)
        T[:3, :3] = best_kf.T_map_camera[:3, :3] @ best_rel.T_query_keyframe[:3, :3].T
        T[:3, 3] = point
        result.T_map_camera = T
        result.covariance = None  # no reprojection residuals on this path (module docstring, case 3)
