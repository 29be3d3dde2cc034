"""Builds the matcher a configuration names: our LoFTR, or an OpenCV baseline."""

from __future__ import annotations

from typing import Any

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.config import MatcherSettings


def create_matcher(settings: MatcherSettings) -> Any:
    """A matcher with ``extract(image)`` and ``match(query, features)``, as the localizer expects."""
    settings.validate()
    if settings.type in ("sift", "orb"):
        return OpenCVMatcher(settings.type)
    from loftr_ros.loftr import Matcher  # torch is imported only when LoFTR is used

    return Matcher(
        weights=settings.weights or None, device=settings.device, precision=settings.precision,
        max_side=settings.max_side,
    )  # fmt: skip
