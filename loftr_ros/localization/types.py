"""Records the core exchanges with its users (the node, the offline tools, the tests).

Conventions everywhere in the core:
- Poses are 4x4 float64 homogeneous matrices ``T_a_b`` mapping points in frame b to frame a, metres.
  Camera frames are optical frames (REP-103: x right, y down, z forward).
- Pixel coordinates are (x, y) with x right, y down and (0, 0) at the centre of the top-left pixel.
- Images are uint8, (H, W) grayscale or (H, W, 3) RGB; depth is float32 metres, 0 or NaN = unknown.
- Timestamps are integer nanoseconds.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of an image, with optional distortion (OpenCV's ``plumb_bob`` order)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = ""
    distortion: tuple[float, ...] = ()

    @property
    def K(self) -> np.ndarray:
        """The 3x3 calibration matrix, pixels."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def has_distortion(self) -> bool:
        return any(abs(c) > 0.0 for c in self.distortion)

    def scaled(self, scale_x: float, scale_y: float) -> CameraIntrinsics:
        """Intrinsics of the same camera after resizing the image by the given factors."""
        return CameraIntrinsics(
            width=round(self.width * scale_x),
            height=round(self.height * scale_y),
            fx=self.fx * scale_x,
            fy=self.fy * scale_y,
            cx=(self.cx + 0.5) * scale_x - 0.5,
            cy=(self.cy + 0.5) * scale_y - 0.5,
            distortion_model=self.distortion_model,
            distortion=self.distortion,
        )


@dataclass
class Keyframe:
    """One map keyframe: a posed, calibrated image, optionally with registered depth."""

    id: str
    stamp_ns: int
    frame_id: str  # the map frame that ``T_map_camera`` is expressed in
    image: np.ndarray  # (H, W) or (H, W, 3) uint8, RGB
    intrinsics: CameraIntrinsics
    T_map_camera: np.ndarray  # (4, 4) float64
    depth: np.ndarray | None = None  # (H, W) float32 metres, registered to ``image``; 0/NaN = unknown
    descriptor: np.ndarray | None = None  # (D,) float32, L2-normalised global descriptor

    @property
    def has_depth(self) -> bool:
        return self.depth is not None


@dataclass
class MatchSet:
    """The matches of one query image against one keyframe."""

    keyframe_id: str
    keypoints_query: np.ndarray  # (N, 2) float32 pixels in the query image
    keypoints_keyframe: np.ndarray  # (N, 2) float32 pixels in the keyframe image
    confidence: np.ndarray  # (N,) float32 in [0, 1]
    inliers: np.ndarray  # (N,) bool, consistent with the estimated pose; all False without one

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    @property
    def num_inliers(self) -> int:
        return int(np.count_nonzero(self.inliers))


class LocalizationState(enum.IntEnum):
    """Outcome of one frame; the values are those of ``LocalizationStatus.STATE_*``."""

    LOCALIZED = 0
    NOT_LOCALIZED = 1  # matched but no pose passed the quality gates; ``reason`` says which
    NO_KEYFRAMES = 2  # the map is empty, or retrieval found no candidate
    REJECTED = 3  # the input itself was unusable (bad image, bad intrinsics)


@dataclass
class LocalizationResult:
    """Everything the core knows about one query frame, whether or not it was localized."""

    state: LocalizationState
    reason: str = ""  # empty when localized
    T_map_camera: np.ndarray | None = None  # (4, 4) float64, None unless localized
    covariance: np.ndarray | None = None  # (6, 6) float64, REP-103 order x, y, z, rot x, rot y, rot z
    keyframe_ids: list[str] = field(default_factory=list)  # keyframes tried, best first
    matches: list[MatchSet] = field(default_factory=list)  # one per keyframe tried, same order
    num_matches: int = 0
    num_inliers: int = 0
    reprojection_rmse_px: float = float("nan")
    timings: dict[str, float] = field(default_factory=dict)  # stage name -> seconds, in stage order

    @property
    def localized(self) -> bool:
        return self.state is LocalizationState.LOCALIZED


class PairMatches(Protocol):
    """A matcher's result for one keyframe: query (0) and keyframe (1) pixels (N, 2), confidence (N,)."""

    keypoints0: np.ndarray
    keypoints1: np.ndarray
    confidence: np.ndarray


@runtime_checkable
class Matcher(Protocol):
    """What the core needs of a matcher (our LoFTR through ``loftr_ros.matchers``, SIFT/ORB, test fakes).

    ``extract`` computes a keyframe's features once (the map caches them); ``match`` matches a query image
    against such features, one result per keyframe in order; ``describe`` gives the global descriptor that
    retrieval compares (L2-normalised, the same for keyframes and queries). ``fingerprint`` names the
    weights and input scaling, ``descriptor_source`` what ``describe`` computes: a map whose stored
    descriptors came from another source gets them recomputed.
    """

    @property
    def fingerprint(self) -> str: ...

    @property
    def descriptor_source(self) -> str: ...

    def extract(self, image: np.ndarray) -> Any: ...

    def feature_bytes(self, features: Any) -> int: ...  # memory one keyframe's features hold (the cache's unit)

    def describe(self, image: np.ndarray) -> np.ndarray: ...

    def match(self, query_image: np.ndarray, keyframes: Sequence[Any]) -> Sequence[PairMatches]: ...
