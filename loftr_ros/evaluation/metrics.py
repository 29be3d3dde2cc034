"""Trajectory and latency metrics of a localization run: plain functions on arrays, no ROS, no I/O.

Poses are (N, 4, 4) float64 ``T_map_camera``; estimates and ground truth are paired by index. No
alignment is applied anywhere: the map frame is the ground-truth frame (keyframe poses are ground truth),
so an offset between them is an error the localizer made, not a gauge freedom to remove.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

# (metres, degrees): a frame counts as a success within a pair when both errors are at most these.
SUCCESS_THRESHOLDS: tuple[tuple[float, float], ...] = ((0.05, 2.0), (0.10, 5.0))
PERCENTILES: tuple[int, ...] = (50, 90, 99)


def _poses(T: np.ndarray, what: str) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    if T.ndim != 3 or T.shape[1:] != (4, 4):
        raise ValueError(f"{what} must be (N, 4, 4) poses, got shape {T.shape}")
    return T


def _pair(T_est: np.ndarray, T_gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    T_est, T_gt = _poses(T_est, "estimates"), _poses(T_gt, "ground truth")
    if len(T_est) != len(T_gt):
        raise ValueError(f"{len(T_est)} estimates but {len(T_gt)} ground-truth poses")
    return T_est, T_gt


def rotation_angles_deg(R: np.ndarray) -> np.ndarray:
    """Angles (N,) in degrees of rotation matrices (N, 3, 3), robust near 0 and 180."""
    R = np.asarray(R, dtype=np.float64)
    cos = np.clip((np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    # arccos loses precision near 0: use the skew part as well
    skew = np.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1
    )
    sin = np.linalg.norm(skew, axis=-1) / 2.0
    return np.degrees(np.arctan2(sin, cos))


def translation_errors(T_est: np.ndarray, T_gt: np.ndarray) -> np.ndarray:
    """(N,) metres between estimated and true camera positions."""
    T_est, T_gt = _pair(T_est, T_gt)
    return np.linalg.norm(T_est[:, :3, 3] - T_gt[:, :3, 3], axis=-1)


def rotation_errors_deg(T_est: np.ndarray, T_gt: np.ndarray) -> np.ndarray:
    """(N,) degrees of the rotation between estimated and true orientations."""
    T_est, T_gt = _pair(T_est, T_gt)
    return rotation_angles_deg(np.swapaxes(T_gt[:, :3, :3], -1, -2) @ T_est[:, :3, :3])


def ate_rmse(T_est: np.ndarray, T_gt: np.ndarray) -> float:
    """Absolute trajectory error: RMSE of the position errors, metres, with NO alignment (see module doc).

    NaN for no poses.
    """
    errors = translation_errors(T_est, T_gt)
    return float(np.sqrt(np.mean(errors**2))) if len(errors) else float("nan")


def relative_pose_errors(T_est: np.ndarray, T_gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative pose error between consecutive poses: translation (N-1,) m and rotation (N-1,) degrees.

    For each i, ``E = (G_i^-1 G_{i+1})^-1 (P_i^-1 P_{i+1})`` with G ground truth and P the estimate: how
    wrong the estimated motion from one frame to the next is, whatever the absolute offset. Pass only
    the localized frames, in time order.
    """
    T_est, T_gt = _pair(T_est, T_gt)
    if len(T_est) < 2:
        return np.zeros(0), np.zeros(0)
    rel_est = np.linalg.inv(T_est[:-1]) @ T_est[1:]
    rel_gt = np.linalg.inv(T_gt[:-1]) @ T_gt[1:]
    E = np.linalg.inv(rel_gt) @ rel_est
    return np.linalg.norm(E[:, :3, 3], axis=-1), rotation_angles_deg(E[:, :3, :3])


def rmse(values: Iterable[float]) -> float:
    v = np.asarray(list(values), dtype=np.float64)
    return float(np.sqrt(np.mean(v**2))) if v.size else float("nan")


def percentiles(values: Iterable[float], qs: Sequence[int] = PERCENTILES) -> dict[str, float]:
    """``{"p50": ..., "p90": ..., "p99": ...}`` (linear interpolation); NaN for no values."""
    v = np.asarray(list(values), dtype=np.float64)
    v = v[np.isfinite(v)]
    return {f"p{q}": float(np.percentile(v, q)) if v.size else float("nan") for q in qs}


def threshold_key(metres: float, degrees: float) -> str:
    """``5cm_2deg`` for (0.05, 2.0): the name of a success threshold in reports."""
    return f"{metres * 100:g}cm_{degrees:g}deg"


def success_rates(
    translation_err: np.ndarray,
    rotation_err: np.ndarray,
    thresholds: Sequence[tuple[float, float]] = SUCCESS_THRESHOLDS,
) -> dict[str, float]:
    """Share of frames within each (metres, degrees) threshold.

    Errors are per frame; a frame that was not localized has NaN errors and counts as a miss, so the
    denominator is every evaluated frame, not only the localized ones. NaN for no frames.
    """
    t = np.asarray(translation_err, dtype=np.float64)
    r = np.asarray(rotation_err, dtype=np.float64)
    if t.shape != r.shape:
        raise ValueError(f"{t.shape} translation errors but {r.shape} rotation errors")
    out = {}
    for metres, degrees in thresholds:
        with np.errstate(invalid="ignore"):
            hits = (t <= metres) & (r <= degrees)  # NaN compares False: a failure is a miss
        out[threshold_key(metres, degrees)] = float(hits.mean()) if t.size else float("nan")
    return out


def latency_percentiles(
    timings: Iterable[Mapping[str, float]], qs: Sequence[int] = (50, 90)
) -> dict[str, dict[str, float]]:
    """Per stage (in first-seen order) and ``total`` (the sum over stages of a frame): seconds at ``qs``.

    Frames that skipped a stage do not count towards that stage.
    """
    per_stage: dict[str, list[float]] = {}
    totals = []
    for frame in timings:
        for stage, seconds in frame.items():
            per_stage.setdefault(stage, []).append(float(seconds))
        totals.append(float(sum(frame.values())))
    out = {stage: percentiles(values, qs) for stage, values in per_stage.items()}
    out["total"] = percentiles(totals, qs)
    return out
