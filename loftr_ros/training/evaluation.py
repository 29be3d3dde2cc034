"""Relative-pose evaluation of matchers, as in LoFTR / SuperGlue: pose error and AUC@5/10/20 degrees.

Every matcher (LoFTR, the OpenCV baselines here) hands its correspondences to the same
:func:`estimate_relative_pose` (PoseLib, essential matrix by LO-RANSAC with a pixel threshold and
bundle refinement), so differences in the AUC come from the matches alone.

Conventions: keypoints are (x, y) pixels with (0, 0) at the centre of the top-left pixel (OpenCV's
keypoint convention too); ``T_0to1`` maps camera 0's frame to camera 1's; angles are degrees.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loftr_ros.errors import ConfigError

logger = logging.getLogger("loftr_ros.training")

AUC_THRESHOLDS: tuple[float, ...] = (5.0, 10.0, 20.0)


@dataclass
class RelativePose:
    """A relative pose estimate: ``x1 = R @ x0 + t`` with ``t`` of unit length (scale is unobservable)."""

    R: np.ndarray  # (3, 3) float64
    t: np.ndarray  # (3,) float64, unit norm
    inliers: np.ndarray  # (N,) bool over the input correspondences
    num_inliers: int


def _camera(K: np.ndarray, width: int, height: int) -> dict:
    K = np.asarray(K, np.float64)
    return {
        "model": "PINHOLE",
        "width": int(width),
        "height": int(height),
        "params": [K[0, 0], K[1, 1], K[0, 2], K[1, 2]],
    }


def estimate_relative_pose(
    kpts0: np.ndarray,
    kpts1: np.ndarray,
    K0: np.ndarray,
    K1: np.ndarray,
    *,
    threshold_px: float = 1.0,
    image_size0: tuple[int, int] = (640, 480),
    image_size1: tuple[int, int] = (640, 480),
    max_iterations: int = 10_000,
    seed: int = 0,
) -> RelativePose | None:
    """Relative pose from pixel correspondences with PoseLib's robust essential-matrix estimator.

    Args:
        kpts0, kpts1: (N, 2) matched pixels in image 0 and image 1.
        K0, K1: (3, 3) calibration matrices.
        threshold_px: Sampson (epipolar) error threshold of an inlier, pixels.
        image_size0, image_size1: (width, height); PoseLib's pinhole model ignores them for the error.
        max_iterations: RANSAC iteration cap.
        seed: RANSAC seed, for reproducible results.

    Returns:
        The estimate, or None with fewer than 5 correspondences or when RANSAC finds no model.
    """
    import poselib

    kpts0 = np.asarray(kpts0, np.float64).reshape(-1, 2)
    kpts1 = np.asarray(kpts1, np.float64).reshape(-1, 2)
    if kpts0.shape != kpts1.shape:
        msg = f"kpts0 and kpts1 must have the same shape, got {kpts0.shape} and {kpts1.shape}"
        raise ConfigError(msg)
    if len(kpts0) < 5:
        return None
    ransac = {
        "max_epipolar_error": float(threshold_px),
        "max_iterations": int(max_iterations),
        "min_iterations": min(100, int(max_iterations)),
        "seed": int(seed),
    }
    pose, info = poselib.estimate_relative_pose(
        kpts0, kpts1, _camera(K0, *image_size0), _camera(K1, *image_size1), ransac, {}
    )
    inliers = np.asarray(info.get("inliers", []), dtype=bool)
    num_inliers = int(info.get("num_inliers", int(inliers.sum())))
    t = np.asarray(pose.t, np.float64)
    if num_inliers < 5 or not np.all(np.isfinite(t)) or np.linalg.norm(t) == 0.0:
        return None
    return RelativePose(
        R=np.asarray(pose.R, np.float64), t=t / np.linalg.norm(t), inliers=inliers, num_inliers=num_inliers
    )


def rotation_error_deg(R_gt: np.ndarray, R: np.ndarray) -> float:
    """Angle of the rotation ``R^T R_gt``, degrees."""
    cos = (np.trace(R.T @ R_gt) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def translation_error_deg(t_gt: np.ndarray, t: np.ndarray, ignore_gt_t_thr: float = 0.0) -> float:
    """Angle between translation directions, degrees, sign-agnostic (the essential-matrix ambiguity).

    With ``|t_gt| < ignore_gt_t_thr`` (a near pure rotation, direction undefined) the error is 0, as
    in LoFTR's evaluation.
    """
    t_gt = np.asarray(t_gt, np.float64)
    if np.linalg.norm(t_gt) < ignore_gt_t_thr or np.linalg.norm(t_gt) == 0.0:
        return 0.0
    cos = float(t @ t_gt) / (np.linalg.norm(t) * np.linalg.norm(t_gt))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return min(angle, 180.0 - angle)


def pose_error_deg(T_0to1: np.ndarray, estimate: RelativePose | None, ignore_gt_t_thr: float = 0.0) -> float:
    """max(rotation error, translation direction error), degrees; inf for a failed estimate."""
    if estimate is None:
        return float("inf")
    T_0to1 = np.asarray(T_0to1, np.float64)
    return max(
        rotation_error_deg(T_0to1[:3, :3], estimate.R),
        translation_error_deg(T_0to1[:3, 3], estimate.t, ignore_gt_t_thr),
    )


def pose_auc(errors: Sequence[float] | np.ndarray, thresholds: Sequence[float] = AUC_THRESHOLDS) -> dict[str, float]:
    """Area under the recall-vs-error curve up to each threshold, normalised to [0, 1] (SuperGlue/LoFTR).

    Failed pairs count with an infinite error. Returns ``{"auc@5": ..., "auc@10": ..., "auc@20": ...}``.
    """
    errors = np.sort(np.asarray(errors, np.float64).ravel())
    if errors.size == 0:
        msg = "pose_auc needs at least one error"
        raise ConfigError(msg)
    errors = np.concatenate([[0.0], errors])
    recall = np.linspace(0.0, 1.0, len(errors))
    result = {}
    for thr in thresholds:
        last = int(np.searchsorted(errors, thr))
        y = np.concatenate([recall[:last], [recall[last - 1]]])
        x = np.concatenate([errors[:last], [thr]])
        result[f"auc@{thr:g}"] = float(np.trapezoid(y, x) / thr)
    return result


def symmetric_epipolar_distance(
    kpts0: np.ndarray, kpts1: np.ndarray, T_0to1: np.ndarray, K0: np.ndarray, K1: np.ndarray
) -> np.ndarray:
    """(N,) squared symmetric epipolar distance in normalised coordinates (LoFTR's precision metric).

    LoFTR counts a match correct when this is below 5e-4 (ScanNet) or 1e-4 (MegaDepth).
    """

    def normalise(pts: np.ndarray, K: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        return np.concatenate([(pts - K[[0, 1], [2, 2]]) / K[[0, 1], [0, 1]], np.ones((len(pts), 1))], axis=1)

    x0, x1 = normalise(kpts0, np.asarray(K0, np.float64)), normalise(kpts1, np.asarray(K1, np.float64))
    t = np.asarray(T_0to1, np.float64)[:3, 3]
    t_x = np.array([[0.0, -t[2], t[1]], [t[2], 0.0, -t[0]], [-t[1], t[0], 0.0]])
    E = t_x @ np.asarray(T_0to1, np.float64)[:3, :3]
    Ex0 = x0 @ E.T
    Etx1 = x1 @ E
    x1Ex0 = np.sum(x1 * Ex0, axis=1)
    return x1Ex0**2 * (
        1.0 / (Ex0[:, 0] ** 2 + Ex0[:, 1] ** 2 + 1e-12) + 1.0 / (Etx1[:, 0] ** 2 + Etx1[:, 1] ** 2 + 1e-12)
    )


@dataclass
class PairEvaluation:
    """The metrics of one image pair."""

    pose_error: float  # degrees, max of rotation and translation-direction errors; inf if failed
    rotation_error: float  # degrees; inf if failed
    translation_error: float  # degrees; inf if failed
    num_matches: int
    num_inliers: int
    precision: float  # share of matches with symmetric epipolar distance below the threshold; nan if none


def evaluate_pair(
    kpts0: np.ndarray,
    kpts1: np.ndarray,
    K0: np.ndarray,
    K1: np.ndarray,
    T_0to1: np.ndarray,
    *,
    threshold_px: float = 1.0,
    epipolar_thr: float = 5e-4,
    image_size0: tuple[int, int] = (640, 480),
    image_size1: tuple[int, int] = (640, 480),
    seed: int = 0,
) -> PairEvaluation:
    """Pose error and match precision of one pair's correspondences against the true relative pose."""
    kpts0 = np.asarray(kpts0, np.float64).reshape(-1, 2)
    kpts1 = np.asarray(kpts1, np.float64).reshape(-1, 2)
    estimate = estimate_relative_pose(
        kpts0,
        kpts1,
        K0,
        K1,
        threshold_px=threshold_px,
        image_size0=image_size0,
        image_size1=image_size1,
        seed=seed,
    )
    if estimate is None:
        r_err = t_err = float("inf")
    else:
        r_err = rotation_error_deg(np.asarray(T_0to1)[:3, :3], estimate.R)
        t_err = translation_error_deg(np.asarray(T_0to1)[:3, 3], estimate.t)
    precision = float("nan")
    if len(kpts0):
        precision = float(np.mean(symmetric_epipolar_distance(kpts0, kpts1, T_0to1, K0, K1) < epipolar_thr))
    return PairEvaluation(
        pose_error=max(r_err, t_err),
        rotation_error=r_err,
        translation_error=t_err,
        num_matches=len(kpts0),
        num_inliers=0 if estimate is None else estimate.num_inliers,
        precision=precision,
    )
