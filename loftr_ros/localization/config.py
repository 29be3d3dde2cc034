"""Configuration of the localization core, one dataclass per stage, one comment per option.

Every config is a frozen dataclass: copy with :func:`dataclasses.replace` to change a value, never
mutate a shared default. ``validate()`` raises :class:`~loftr_ros.errors.ConfigError` naming the option.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from loftr_ros.errors import ConfigError


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _require_finite(config: object) -> None:
    """Every float option finite: NaN passes no comparison test and would silently disable a check."""
    for f in fields(config):  # type: ignore[arg-type]
        value = getattr(config, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{type(config).__name__}.{f.name} must be finite, not {value}")


@dataclass(frozen=True)
class StoreConfig:
    """How the SQLite keyframe store is opened."""

    synchronous: str = "NORMAL"  # SQLite PRAGMA synchronous: NORMAL survives a killed process, FULL power loss
    busy_timeout_ms: int = 5000  # wait this long for another writer's lock before failing

    def validate(self) -> None:
        _require(
            self.synchronous in ("OFF", "NORMAL", "FULL", "EXTRA"),
            f"StoreConfig.synchronous must be OFF, NORMAL, FULL or EXTRA, not {self.synchronous!r}",
        )
        _require(0 <= self.busy_timeout_ms <= 600_000, "StoreConfig.busy_timeout_ms must be in [0, 600000]")


@dataclass(frozen=True)
class RetrievalConfig:
    """How candidate keyframes are chosen for a query."""

    top_k: int = 2  # keyframes matched per query (measured: README, "Defaults")
    min_similarity: float = -1.0  # drop candidates whose descriptor cosine is below this (-1 keeps all)
    prior_max_distance_m: float = 5.0  # with a pose prior: keyframes farther than this are skipped
    prior_max_angle_deg: float = 60.0  # with a pose prior: keyframes looking away more than this are skipped

    def validate(self) -> None:
        _require_finite(self)
        _require(1 <= self.top_k <= 64, "RetrievalConfig.top_k must be >= 1 and at most 64")
        _require(-1.0 <= self.min_similarity <= 1.0, "RetrievalConfig.min_similarity must be in [-1, 1]")
        _require(0 < self.prior_max_distance_m <= 1e4, "RetrievalConfig.prior_max_distance_m must be in (0, 1e4]")
        _require(0 < self.prior_max_angle_deg <= 180, "RetrievalConfig.prior_max_angle_deg must be in (0, 180]")


@dataclass(frozen=True)
class PoseConfig:
    """How a pose is estimated from matches."""

    min_confidence: float = 0.0  # matches below this matcher confidence are ignored
    max_reprojection_error_px: float = 4.0  # RANSAC inlier threshold of the absolute pose, pixels
    max_epipolar_error_px: float = 1.5  # RANSAC inlier threshold of the relative pose (Sampson), pixels
    ransac_max_iterations: int = 10000  # upper bound on RANSAC iterations
    ransac_min_iterations: int = 100  # lower bound on RANSAC iterations
    ransac_seed: int = 0  # fixed seed so that a frame always gives the same pose
    depth_interpolation: str = "bilinear"  # "bilinear" or "nearest" sampling of keyframe depth
    max_depth_jump: float = 0.05  # bilinear: neighbours differing by more than this fraction are invalid
    min_depth_m: float = 0.05  # depth below this is treated as unknown
    max_depth_m: float = 50.0  # depth above this is treated as unknown
    refine_iterations: int = 5  # Gauss-Newton steps on the inliers before the covariance is taken
    min_triangulation_angle_deg: float = 2.0  # no depth: rays from two keyframes must differ by this much

    def validate(self) -> None:
        _require_finite(self)
        _require(0 <= self.min_confidence <= 1, "PoseConfig.min_confidence must be in [0, 1]")
        _require(0 < self.max_reprojection_error_px <= 100, "PoseConfig.max_reprojection_error_px must be in (0, 100]")
        _require(0 < self.max_epipolar_error_px <= 100, "PoseConfig.max_epipolar_error_px must be in (0, 100]")
        _require(self.ransac_max_iterations <= 1_000_000, "PoseConfig.ransac_max_iterations must be <= 1000000")
        _require(self.max_depth_m <= 1e4, "PoseConfig.max_depth_m must be <= 1e4")
        _require(
            self.ransac_max_iterations >= self.ransac_min_iterations >= 1,
            "PoseConfig needs ransac_max_iterations >= ransac_min_iterations >= 1",
        )
        _require(
            self.depth_interpolation in ("bilinear", "nearest"),
            f"PoseConfig.depth_interpolation must be 'bilinear' or 'nearest', not {self.depth_interpolation!r}",
        )
        _require(self.max_depth_jump > 0, "PoseConfig.max_depth_jump must be > 0")
        _require(0 <= self.min_depth_m < self.max_depth_m, "PoseConfig needs 0 <= min_depth_m < max_depth_m")
        _require(0 <= self.refine_iterations <= 100, "PoseConfig.refine_iterations must be in [0, 100]")
        _require(self.min_triangulation_angle_deg >= 0, "PoseConfig.min_triangulation_angle_deg must be >= 0")


@dataclass(frozen=True)
class QualityGates:
    """Thresholds a pose must pass to be reported as localized; each failure has its own reason."""

    min_matches: int = 30  # fewer matches over all keyframes tried: "too few matches"
    min_inliers: int = 20  # fewer RANSAC inliers: "too few inliers"
    min_inlier_ratio: float = 0.2  # inliers / matches below this: "low inlier ratio"
    max_rmse_px: float = 2.5  # inlier reprojection RMSE above this: "high reprojection RMSE"
    max_jump_m: float = 1.0  # with a prior: translation away from it above this: "jump from prior"
    max_jump_deg: float = 30.0  # with a prior: rotation away from it above this: "jump from prior"

    def validate(self) -> None:
        _require_finite(self)
        _require(0 <= self.min_matches <= 1_000_000, "QualityGates.min_matches must be in [0, 1000000]")
        _require(self.min_inliers <= 1_000_000, "QualityGates.min_inliers must be <= 1000000")
        _require(self.min_inliers >= 6, "QualityGates.min_inliers must be >= 6 (a pose has 6 unknowns)")
        _require(0 <= self.min_inlier_ratio <= 1, "QualityGates.min_inlier_ratio must be in [0, 1]")
        _require(0 < self.max_rmse_px <= 100, "QualityGates.max_rmse_px must be in (0, 100]")
        _require(0 < self.max_jump_m <= 1e4, "QualityGates.max_jump_m must be in (0, 1e4]")
        _require(0 < self.max_jump_deg <= 180, "QualityGates.max_jump_deg must be in (0, 180]")


@dataclass(frozen=True)
class LocalizerConfig:
    """The whole core; each stage receives only its own slice."""

    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)  # which keyframes to match
    pose: PoseConfig = field(default_factory=PoseConfig)  # how the pose is solved
    gates: QualityGates = field(default_factory=QualityGates)  # when a pose counts as localized
    store: StoreConfig = field(default_factory=StoreConfig)  # how a map file is opened
    cascade: bool = False  # match the best-ranked keyframe first; the next ones only while no pose passes with margin
    cascade_margin: float = 1.5  # a pose ends the cascade when its inliers reach this times gates.min_inliers
    feature_cache_mb: float = 512.0  # keyframe features kept in memory up to this size (least recently used dropped)
    keyframe_cache_mb: float = 64.0  # decoded keyframes (image, depth) kept in memory when reading a store

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if hasattr(value, "validate"):
                value.validate()
        _require(1.0 <= self.cascade_margin <= 100.0, "LocalizerConfig.cascade_margin must be in [1, 100]")
        _require_finite(self)
        _require(0 <= self.feature_cache_mb <= 1e6, "LocalizerConfig.feature_cache_mb must be in [0, 1e6]")
        _require(0 <= self.keyframe_cache_mb <= 1e6, "LocalizerConfig.keyframe_cache_mb must be in [0, 1e6]")
