"""OpenCV SIFT and ORB matchers with the same interface as our LoFTR matcher.

They are the baselines every evaluation prints beside LoFTR, run through the same pose code, and a
fallback matcher for the node (``matcher.type: sift``). Features of a keyframe are extracted once, as
with LoFTR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from loftr_ros.errors import ConfigError


@dataclass
class LocalFeatures:
    """Keypoints (N, 2) float32 pixels and their descriptors (N, D) of one image."""

    keypoints: np.ndarray
    descriptors: np.ndarray | None


@dataclass
class FeatureMatches:
    """Matches of a query (``keypoints0``) against a keyframe (``keypoints1``), pixels, with a confidence."""

    keypoints0: np.ndarray
    keypoints1: np.ndarray
    confidence: np.ndarray


def _gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * 255.0 if image.max() <= 1.0 else image, 0, 255).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


class OpenCVMatcher:
    """SIFT (L2) or ORB (Hamming) matching with Lowe's ratio test and a mutual nearest-neighbour check.

    Confidence is ``1 - ratio`` of the best to second-best descriptor distance (1 without the ratio test),
    so it orders matches the way LoFTR's confidence does.
    """

    def __init__(
        self, kind: str = "sift", max_features: int = 4000, ratio: float | None = 0.8, cross_check: bool = True
    ) -> None:
        if kind not in ("sift", "orb"):
            raise ConfigError(f"OpenCV matcher kind must be 'sift' or 'orb', not {kind!r}")
        if ratio is not None and not 0.0 < ratio <= 1.0:
            raise ConfigError(f"ratio must be in (0, 1] or None, got {ratio}")
        self.kind = kind
        self.ratio = ratio
        self.cross_check = cross_check
        if kind == "sift":
            self._detector = cv2.SIFT_create(nfeatures=max_features)
            self._norm = cv2.NORM_L2
        else:
            self._detector = cv2.ORB_create(nfeatures=max_features)
            self._norm = cv2.NORM_HAMMING
        self._bf = cv2.BFMatcher(self._norm)
        self.fingerprint = f"opencv-{kind}-{max_features}"

    # retrieval for SIFT/ORB: the tiny-image descriptor (it finds keyframes from nearby viewpoints only)
    descriptor_source = "thumbnail-32x24"

    def describe(self, image: np.ndarray) -> np.ndarray:
        from loftr_ros.localization.retrieval import thumbnail_descriptor

        return thumbnail_descriptor(image)

    def feature_bytes(self, features: LocalFeatures) -> int:
        descriptors = 0 if features.descriptors is None else features.descriptors.nbytes
        return features.keypoints.nbytes + descriptors

    def extract(self, image: np.ndarray) -> LocalFeatures:
        keypoints, descriptors = self._detector.detectAndCompute(_gray(image), None)
        points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
        return LocalFeatures(points, descriptors)

    def match_features(self, query: LocalFeatures, keyframe: LocalFeatures) -> FeatureMatches:
        empty = FeatureMatches(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, np.float32))
        if (
            query.descriptors is None
            or keyframe.descriptors is None
            or min(len(query.keypoints), len(keyframe.keypoints)) < 2
        ):
            return empty
        rows = []
        for pair in self._bf.knnMatch(query.descriptors, keyframe.descriptors, k=2):
            if not pair:
                continue
            best = pair[0]
            if self.ratio is None:
                rows.append((best.queryIdx, best.trainIdx, 1.0))
            elif len(pair) == 2 and best.distance < self.ratio * pair[1].distance:
                rows.append((best.queryIdx, best.trainIdx, 1.0 - best.distance / max(pair[1].distance, 1e-12)))
        if self.cross_check and rows:
            backward = {m.queryIdx: m.trainIdx for m in self._bf.match(keyframe.descriptors, query.descriptors)}
            rows = [r for r in rows if backward.get(r[1]) == r[0]]
        if not rows:
            return empty
        q_idx, k_idx, score = (np.array(c) for c in zip(*rows, strict=True))
        return FeatureMatches(query.keypoints[q_idx], keyframe.keypoints[k_idx], score.astype(np.float32))

    def match(self, query_image: np.ndarray, keyframes: Sequence[LocalFeatures]) -> list[FeatureMatches]:
        query = self.extract(query_image)
        return [self.match_features(query, keyframe) for keyframe in keyframes]

    def match_pair(self, image0: np.ndarray, image1: np.ndarray) -> FeatureMatches:
        return self.match_features(self.extract(image0), self.extract(image1))
