"""The ROS-free localization core: keyframes, retrieval and pose, from an image to a pose.

Modules by stage: ``store`` (the SQLite keyframe map), ``retrieval`` (top-k keyframes), ``pose``
(absolute / relative pose, back-projection), ``covariance`` (Gauss-Newton refinement and its 6x6
covariance), ``gates`` (quality gates with reasons), ``localizer`` (the one entry point), ``io``
(import/export), ``config`` (one dataclass per stage).
"""

from loftr_ros.localization.config import (
    LocalizerConfig,
    PoseConfig,
    QualityGates,
    RetrievalConfig,
    StoreConfig,
)
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.retrieval import RetrievalIndex, gem_descriptor
from loftr_ros.localization.store import KeyframeInfo, KeyframeStore
from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    Matcher,
    MatchSet,
)

__all__ = [
    "CameraIntrinsics",
    "Keyframe",
    "KeyframeInfo",
    "KeyframeStore",
    "LocalizationResult",
    "LocalizationState",
    "Localizer",
    "LocalizerConfig",
    "MatchSet",
    "Matcher",
    "PoseConfig",
    "QualityGates",
    "RetrievalConfig",
    "RetrievalIndex",
    "StoreConfig",
    "gem_descriptor",
]
