"""The ROS-free localization core: keyframes, retrieval and pose, from an image to a pose."""

from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    MatchSet,
)

__all__ = ["CameraIntrinsics", "Keyframe", "LocalizationResult", "LocalizationState", "MatchSet"]
