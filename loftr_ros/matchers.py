"""Builds the matcher a configuration names: our LoFTR, or an OpenCV baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.config import MatcherSettings
from loftr_ros.localization.retrieval import gem_descriptor
from loftr_ros.localization.types import Matcher


class LoFTRLocalizationMatcher:
    """LoFTR for the localizer: retrieval descriptors from the query's own coarse features.

    The localizer describes a query, then matches it; the features computed for the descriptor are kept
    for that match, so a query costs one backbone pass, not two.
    """

    def __init__(self, matcher: Any) -> None:
        self.matcher = matcher
        self._described: tuple[np.ndarray, Any] | None = None

    @property
    def fingerprint(self) -> str:
        return self.matcher.fingerprint

    def extract(self, image: np.ndarray) -> Any:
        """A keyframe's features, kept in float16 (half the memory; matching casts them back)."""
        return self.matcher.extract(image).half()

    def feature_bytes(self, features: Any) -> int:
        return features.nbytes

    @property
    def descriptor_source(self) -> str:
        """Who made the descriptors: a map's stored ones from another source are recomputed."""
        return f"loftr-gem3-{self.matcher.fingerprint}"

    def describe(self, image: np.ndarray) -> np.ndarray:
        """GeM-pooled (p = 3), L2-normalised coarse LoFTR features of ``image``, (C,) float32."""
        features = self.matcher.extract(image)
        self._described = (image, features)
        if features.blank:
            return np.zeros(self.matcher.model.config.coarse.d_model, np.float32)
        return gem_descriptor(features.coarse[0])

    def match(self, query_image: np.ndarray, keyframes: Sequence[Any]) -> list[Any]:
        """Matches against keyframe features; the query's features come from ``describe`` of the same image
        (kept until the next image is described, so a cascade's every step reuses them)."""
        described = self._described
        query = described[1] if described is not None and described[0] is query_image else query_image
        return self.matcher.match(query, keyframes)


def create_matcher(settings: MatcherSettings) -> Matcher:
    """The matcher ``settings`` names, as the localizer expects it (:class:`~loftr_ros.localization.types.Matcher`)."""
    settings.validate()
    if settings.type in ("sift", "orb"):
        return OpenCVMatcher(settings.type)
    from loftr_ros.loftr import Matcher  # torch is imported only when LoFTR is used

    matcher = Matcher(
        weights=settings.weights or "default",
        device=settings.device,
        precision=settings.precision,
        max_side=settings.max_side,
    )
    return LoFTRLocalizationMatcher(matcher)
