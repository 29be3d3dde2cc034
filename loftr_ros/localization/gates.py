"""Quality gates: whether a pose is good enough to publish, and if not, a reason a person can read."""

from __future__ import annotations

import numpy as np

from loftr_ros.localization.config import QualityGates
from loftr_ros.transforms import pose_error

# Reason prefixes, stable so that callers and tests can tell the failures apart.
TOO_FEW_MATCHES = "too few matches"
TOO_FEW_INLIERS = "too few inliers"
LOW_INLIER_RATIO = "low inlier ratio"
HIGH_RMSE = "high reprojection RMSE"
JUMP_FROM_PRIOR = "jump from prior"


def check_matches(num_matches: int, gates: QualityGates) -> str:
    """Reason to stop before solving (empty when there are enough matches)."""
    if num_matches < gates.min_matches:
        return f"{TOO_FEW_MATCHES}: {num_matches} < {gates.min_matches}"
    return ""


def check_pose(
    num_matches: int,
    num_inliers: int,
    rmse_px: float,
    T_map_camera: np.ndarray,
    gates: QualityGates,
    prior: np.ndarray | None = None,
) -> str:
    """First failed gate's reason, or "" when the pose passes all of them.

    ``rmse_px`` NaN (no reprojection residuals, e.g. the relative-pose path) skips the RMSE gate.
    """
    reason = check_matches(num_matches, gates)
    if reason:
        return reason
    if num_inliers < gates.min_inliers:
        return f"{TOO_FEW_INLIERS}: {num_inliers} < {gates.min_inliers}"
    ratio = num_inliers / max(num_matches, 1)
    if ratio < gates.min_inlier_ratio:
        return f"{LOW_INLIER_RATIO}: {ratio:.2f} < {gates.min_inlier_ratio:.2f}"
    if np.isfinite(rmse_px) and rmse_px > gates.max_rmse_px:
        return f"{HIGH_RMSE}: {rmse_px:.2f} px > {gates.max_rmse_px:.2f} px"
    if prior is not None:
        dt, dr = pose_error(np.asarray(T_map_camera), np.asarray(prior, dtype=np.float64))
        if dt > gates.max_jump_m or dr > gates.max_jump_deg:
            return (
                f"{JUMP_FROM_PRIOR}: {dt:.2f} m, {dr:.1f} deg "
                f"(limits {gates.max_jump_m:.2f} m, {gates.max_jump_deg:.1f} deg)"
            )
    return ""
