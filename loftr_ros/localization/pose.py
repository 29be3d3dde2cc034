"""Camera pose from matches: absolute (2D-3D with keyframe depth), relative (2D-2D) and a metric
position by intersecting the rays from two posed keyframes.

PoseLib does the robust part (LO-RANSAC with non-linear refinement); the covariance comes from
:mod:`loftr_ros.localization.covariance`. Keypoints follow the core's convention (pixel (0, 0) is the
centre of the top-left pixel), which is also OpenCV's and PoseLib's, so no half-pixel shift is applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from loftr_ros.localization.config import PoseConfig
from loftr_ros.localization.covariance import refine_pose
from loftr_ros.localization.types import CameraIntrinsics

logger = logging.getLogger("loftr_ros.localization")


def undistort_points(points: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
    """Pixels of an image with distortion mapped to the ideal pinhole image with the same K, (N, 2)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not intrinsics.has_distortion or len(pts) == 0:
        return pts
    criteria = (
        cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS,
        50,
        1e-10,
    )  # OpenCV's default 5 steps are short
    if intrinsics.distortion_model == "equidistant":  # fisheye (Kannala-Brandt), 4 coefficients
        out = cv2.fisheye.undistortPoints(
            pts[:, None, :], intrinsics.K, np.asarray(intrinsics.distortion), R=None, P=intrinsics.K
        )
        return out.reshape(-1, 2)
    out = cv2.undistortPoints(
        pts[:, None, :],
        intrinsics.K,
        np.asarray(intrinsics.distortion),
        R=None,
        P=intrinsics.K,
        criteria=criteria,
    )
    return out.reshape(-1, 2)


def _camera_dict(intrinsics: CameraIntrinsics) -> dict:
    i = intrinsics
    return {"model": "PINHOLE", "width": i.width, "height": i.height, "params": [i.fx, i.fy, i.cx, i.cy]}


def sample_depth(depth: np.ndarray, keypoints: np.ndarray, config: PoseConfig | None = None) -> np.ndarray:
    """Depth (N,) at sub-pixel keypoints, NaN where unknown.

    Bilinear sampling needs all four neighbours valid and within ``max_depth_jump`` (relative) of each
    other, so that points are never invented between a foreground edge and the background.
    """
    config = config or PoseConfig()
    d = np.asarray(depth, dtype=np.float32)
    valid_map = np.isfinite(d) & (d >= config.min_depth_m) & (d <= config.max_depth_m)
    h, w = d.shape
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    out = np.full(len(kp), np.nan)
    if config.depth_interpolation == "nearest":
        xi, yi = np.rint(kp[:, 0]).astype(int), np.rint(kp[:, 1]).astype(int)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        ok = inside.copy()
        ok[inside] = valid_map[yi[inside], xi[inside]]
        out[ok] = d[yi[ok], xi[ok]]
        return out
    x0, y0 = np.floor(kp[:, 0]).astype(int), np.floor(kp[:, 1]).astype(int)
    inside = (x0 >= 0) & (x0 + 1 < w) & (y0 >= 0) & (y0 + 1 < h)
    idx = np.nonzero(inside)[0]
    x0, y0 = x0[idx], y0[idx]
    ax, ay = kp[idx, 0] - x0, kp[idx, 1] - y0
    corners = np.stack([d[y0, x0], d[y0, x0 + 1], d[y0 + 1, x0], d[y0 + 1, x0 + 1]], axis=1).astype(np.float64)
    cvalid = np.stack(
        [valid_map[y0, x0], valid_map[y0, x0 + 1], valid_map[y0 + 1, x0], valid_map[y0 + 1, x0 + 1]], axis=1
    ).all(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (corners.max(axis=1) - corners.min(axis=1)) / corners.min(axis=1)
    ok = cvalid & (spread <= config.max_depth_jump)
    wts = np.stack([(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay], axis=1)
    vals = np.sum(wts * np.nan_to_num(corners), axis=1)
    out[idx[ok]] = vals[ok]
    return out


def backproject(
    keypoints: np.ndarray,
    depth: np.ndarray,
    intrinsics: CameraIntrinsics,
    T_map_camera: np.ndarray,
    config: PoseConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """3D points in the map frame of a keyframe's keypoints, from its registered depth.

    Args:
        keypoints: (N, 2) pixels in the keyframe image.
        depth: (H, W) float32 metres along the optical axis (z), 0/NaN unknown.
        intrinsics: the keyframe's calibration (distortion is removed from the ray, depth is sampled at
            the raw pixel).
        T_map_camera: (4, 4) keyframe pose.

    Returns:
        (points (N, 3) float64 in the map frame, NaN where invalid; valid (N,) bool).
    """
    z = sample_depth(depth, keypoints, config)
    uv = undistort_points(keypoints, intrinsics)
    x = (uv[:, 0] - intrinsics.cx) / intrinsics.fx * z
    y = (uv[:, 1] - intrinsics.cy) / intrinsics.fy * z
    Xc = np.stack([x, y, z], axis=1)
    T = np.asarray(T_map_camera, dtype=np.float64)
    Xm = Xc @ T[:3, :3].T + T[:3, 3]
    return Xm, np.isfinite(z)


@dataclass
class AbsolutePose:
    """A query pose from 2D-3D correspondences."""

    T_map_camera: np.ndarray  # (4, 4) float64
    covariance: np.ndarray  # (6, 6), see loftr_ros.localization.covariance for the parametrisation
    inliers: np.ndarray  # (N,) bool over the correspondences given
    rmse_px: float  # RMSE of the inlier reprojection residual vectors, pixels

    @property
    def num_inliers(self) -> int:
        return int(np.count_nonzero(self.inliers))


def _ransac_options(config: PoseConfig, **extra: float) -> dict:
    return {
        "max_iterations": config.ransac_max_iterations,
        "min_iterations": config.ransac_min_iterations,
        "seed": config.ransac_seed,
        **extra,
    }


def estimate_absolute_pose(
    points2d: np.ndarray,
    points3d: np.ndarray,
    intrinsics: CameraIntrinsics,
    config: PoseConfig | None = None,
) -> AbsolutePose | None:
    """LO-RANSAC absolute pose (PoseLib P3P) on (N, 2) query pixels and (N, 3) map points, then
    Gauss-Newton on the inliers and the covariance. None with fewer than 4 correspondences or no model.
    """
    config = config or PoseConfig()
    uv = undistort_points(points2d, intrinsics)
    X = np.asarray(points3d, dtype=np.float64).reshape(-1, 3)
    if len(uv) < 4:
        return None
    import poselib  # imported when used: training machines without it still import the core's types

    pose, info = poselib.estimate_absolute_pose(
        uv,
        X,
        _camera_dict(intrinsics),
        _ransac_options(config, max_reproj_error=config.max_reprojection_error_px),
        {"loss_type": "CAUCHY", "loss_scale": config.max_reprojection_error_px / 2},
    )
    inliers = np.asarray(info["inliers"], dtype=bool)
    if inliers.sum() < 4:
        return None
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = pose.R.T, -pose.R.T @ pose.t
    T, cov, rmse = refine_pose(T, X[inliers], uv[inliers], intrinsics.K, config.refine_iterations)
    return AbsolutePose(T, cov, inliers, rmse)


@dataclass
class RelativePose:
    """The query relative to one keyframe, translation up to scale."""

    T_query_keyframe: np.ndarray  # (4, 4); its translation has unit norm
    inliers: np.ndarray  # (N,) bool

    @property
    def num_inliers(self) -> int:
        return int(np.count_nonzero(self.inliers))

    def centre_direction_in(self, T_map_keyframe: np.ndarray) -> np.ndarray:
        """Unit direction, in the map frame, from the keyframe's optical centre to the query's."""
        R, t = self.T_query_keyframe[:3, :3], self.T_query_keyframe[:3, 3]
        return T_map_keyframe[:3, :3] @ (-R.T @ t)


def estimate_relative_pose(
    keypoints_keyframe: np.ndarray,
    keypoints_query: np.ndarray,
    intrinsics_keyframe: CameraIntrinsics,
    intrinsics_query: CameraIntrinsics,
    config: PoseConfig | None = None,
) -> RelativePose | None:
    """LO-RANSAC relative pose (PoseLib 5-point) of the query w.r.t. a keyframe; None with < 5 matches."""
    config = config or PoseConfig()
    a = undistort_points(keypoints_keyframe, intrinsics_keyframe)
    b = undistort_points(keypoints_query, intrinsics_query)
    if len(a) < 5:
        return None
    import poselib

    pose, info = poselib.estimate_relative_pose(
        a,
        b,
        _camera_dict(intrinsics_keyframe),
        _camera_dict(intrinsics_query),
        _ransac_options(config, max_epipolar_error=config.max_epipolar_error_px),
        {},
    )
    inliers = np.asarray(info["inliers"], dtype=bool)
    if inliers.sum() < 5 or not np.all(np.isfinite(pose.t)) or np.linalg.norm(pose.t) < 1e-9:
        return None
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = pose.R, pose.t / np.linalg.norm(pose.t)
    return RelativePose(T, inliers)


def intersect_rays(origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares point nearest to M >= 2 rays.

    Returns:
        (point (3,), the largest angle between the lines of any two rays in degrees, in [0, 90]: near 0
        the point is ill-determined (rays parallel or anti-parallel); the distances (M,) along each ray to
        the foot of the perpendicular from the point, negative meaning behind the origin).
    """
    o = np.asarray(origins, dtype=np.float64).reshape(-1, 3)
    d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    A = np.zeros((3, 3))
    b = np.zeros(3)
    for oi, di in zip(o, d, strict=True):
        P = np.eye(3) - np.outer(di, di)
        A += P
        b += P @ oi
    point = np.linalg.lstsq(A, b, rcond=None)[0]
    cosines = np.clip(np.abs(d @ d.T), 0.0, 1.0)  # lines: parallel and anti-parallel are equally ill-posed
    angle = float(np.degrees(np.arccos(cosines.min())))
    along = np.einsum("ij,ij->i", point - o, d)
    return point, angle, along


def triangulate_points(
    keypoints_a: np.ndarray,
    keypoints_b: np.ndarray,
    intrinsics_a: CameraIntrinsics,
    intrinsics_b: CameraIntrinsics,
    T_map_a: np.ndarray,
    T_map_b: np.ndarray,
    min_angle_deg: float = 1.0,
    max_error_px: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Map points seen by two posed keyframes at (N, 2) pixels each (linear triangulation).

    Returns:
        (points (N, 3) in the map frame, valid (N,) bool: in front of both cameras, rays at least
        ``min_angle_deg`` apart, and reprojecting within ``max_error_px`` in both images).
    """
    a = undistort_points(keypoints_a, intrinsics_a)
    b = undistort_points(keypoints_b, intrinsics_b)
    n = len(a)
    if n == 0:
        return np.zeros((0, 3)), np.zeros(0, bool)
    T_a_map, T_b_map = np.linalg.inv(T_map_a), np.linalg.inv(T_map_b)
    Pa = intrinsics_a.K @ T_a_map[:3]
    Pb = intrinsics_b.K @ T_b_map[:3]
    Xh = cv2.triangulatePoints(Pa, Pb, a.T.astype(np.float64), b.T.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        X = (Xh[:3] / Xh[3]).T
    valid = np.all(np.isfinite(X), axis=1)
    for T_c_map, P, uv in ((T_a_map, Pa, a), (T_b_map, Pb, b)):
        z = X @ T_c_map[2, :3] + T_c_map[2, 3]
        proj = X @ P[:, :3].T + P[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.linalg.norm(proj[:, :2] / proj[:, 2:] - uv, axis=1)
        valid &= (z > 0) & (err <= max_error_px)
    ra = X - T_map_a[:3, 3]
    rb = X - T_map_b[:3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.einsum("ij,ij->i", ra, rb) / (np.linalg.norm(ra, axis=1) * np.linalg.norm(rb, axis=1))
    valid &= cos <= np.cos(np.deg2rad(min_angle_deg))
    return X, valid
