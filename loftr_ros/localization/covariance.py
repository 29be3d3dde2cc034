"""Gauss-Newton refinement of a camera pose on 2D-3D inliers, and its 6x6 covariance.

Parametrisation (what the covariance is a covariance *of*): the camera pose in the map frame,
``T_map_camera = [R | p]``, perturbed as ``p' = p + dp`` and ``R' = Exp(dtheta) @ R``. The rotation is a
**left (world/map-frame) perturbation**: ``dtheta`` is a rotation vector about the map's x, y, z axes,
which is what ROS's ``PoseWithCovariance`` expects (REP-103 order x, y, z, rot x, rot y, rot z, with
rotations about the fixed parent axes). Position and rotation are perturbed independently (not the SE(3)
exponential), so the position block is directly the covariance of the camera centre in metres^2.

The covariance is ``sigma^2 (J^T J)^-1``: J is the Jacobian of the inlier reprojection residuals (pixels)
and ``sigma^2`` their variance, estimated from the residuals with ``2N - 6`` degrees of freedom. It
ignores the uncertainty of the 3D points (keyframe pose and depth) and is therefore optimistic when
those are poor.
"""

from __future__ import annotations

import numpy as np

from loftr_ros.transforms import skew, so3_exp, so3_log


def _residuals_and_jacobian(
    R: np.ndarray, p: np.ndarray, X: np.ndarray, uv: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residuals (N, 2), Jacobian (N, 2, 6) w.r.t. (dp, dtheta), and the camera-frame depth (N,)."""
    d = X - p  # (N, 3) map-frame vectors from the camera centre
    Xc = d @ R  # R^T d, row-wise
    z = Xc[:, 2]
    zs = np.where(np.abs(z) < 1e-9, 1e-9, z)
    fx, fy = K[0, 0], K[1, 1]
    proj = np.stack([fx * Xc[:, 0] / zs + K[0, 2], fy * Xc[:, 1] / zs + K[1, 2]], axis=1)
    r = proj - uv
    # d(proj)/d(Xc): (N, 2, 3)
    Jp = np.zeros((len(X), 2, 3))
    Jp[:, 0, 0] = fx / zs
    Jp[:, 0, 2] = -fx * Xc[:, 0] / zs**2
    Jp[:, 1, 1] = fy / zs
    Jp[:, 1, 2] = -fy * Xc[:, 1] / zs**2
    Rt = R.T
    # d(Xc)/d(dp) = -R^T ; d(Xc)/d(dtheta) = R^T [d]x
    dXc_dtheta = np.einsum("ij,njk->nik", Rt, np.stack([skew(v) for v in d]))
    J = np.concatenate([Jp @ -Rt, Jp @ dXc_dtheta], axis=2)
    return r, J, z


def refine_pose(
    T_map_camera: np.ndarray,
    points3d: np.ndarray,
    points2d: np.ndarray,
    K: np.ndarray,
    iterations: int = 5,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares refinement on inliers, then the covariance at the solution.

    Args:
        T_map_camera: (4, 4) initial pose (e.g. from RANSAC).
        points3d: (N, 3) points in the map frame, metres.
        points2d: (N, 2) their observations in the (undistorted) query image, pixels.
        K: (3, 3) calibration matrix of the query.
        iterations: Gauss-Newton steps (0 keeps the pose, only computes the covariance).

    Returns:
        (T_map_camera refined, 6x6 covariance in the order x, y, z, rot x, rot y, rot z (see the module
        docstring for the perturbation), RMSE of the residual vectors in pixels:
        ``sqrt(mean(|r_i|^2))``). The covariance is NaN when N < 4 or the geometry is degenerate.
    """
    T = np.asarray(T_map_camera, dtype=np.float64).copy()
    X = np.asarray(points3d, dtype=np.float64).reshape(-1, 3)
    uv = np.asarray(points2d, dtype=np.float64).reshape(-1, 2)
    K = np.asarray(K, dtype=np.float64)
    R, p = T[:3, :3].copy(), T[:3, 3].copy()
    cost = np.inf
    for _ in range(iterations):
        r, J, _ = _residuals_and_jacobian(R, p, X, uv, K)
        new_cost = float(np.sum(r**2))
        if new_cost > cost * (1 + 1e-12):
            break
        cost = new_cost
        Jf, rf = J.reshape(-1, 6), r.reshape(-1)
        try:
            delta = np.linalg.solve(Jf.T @ Jf, -Jf.T @ rf)
        except np.linalg.LinAlgError:
            break
        R_new, p_new = so3_exp(delta[3:]) @ R, p + delta[:3]
        r_new, _, _ = _residuals_and_jacobian(R_new, p_new, X, uv, K)
        if float(np.sum(r_new**2)) > cost:  # Gauss-Newton overshot: keep the RANSAC/previous pose
            break
        R, p = R_new, p_new
        if np.linalg.norm(delta) < 1e-12:
            break
    r, J, _ = _residuals_and_jacobian(R, p, X, uv, K)
    n = len(X)
    rmse = float(np.sqrt(np.mean(np.sum(r**2, axis=1)))) if n else float("nan")
    cov = np.full((6, 6), np.nan)
    if n >= 4:
        Jf = J.reshape(-1, 6)
        sigma2 = float(np.sum(r**2)) / (2 * n - 6)
        info = Jf.T @ Jf
        if np.linalg.cond(info) < 1e15:
            cov = sigma2 * np.linalg.inv(info)
            cov = 0.5 * (cov + cov.T)
    T[:3, :3], T[:3, 3] = R, p
    return T, cov, rmse


def reprojection_errors(
    T_map_camera: np.ndarray, points3d: np.ndarray, points2d: np.ndarray, K: np.ndarray
) -> np.ndarray:
    """Per-point reprojection error (N,) in pixels; +inf for points behind the camera."""
    T = np.asarray(T_map_camera, dtype=np.float64)
    r, _, z = _residuals_and_jacobian(T[:3, :3], T[:3, 3], np.asarray(points3d, float), np.asarray(points2d, float), K)
    err = np.linalg.norm(r, axis=1)
    err[z <= 0] = np.inf
    return err


def pose_error_vector(T_est: np.ndarray, T_true: np.ndarray) -> np.ndarray:
    """The 6-vector (dp, dtheta) with ``T_est = perturb(T_true)`` in this module's parametrisation."""
    return np.concatenate([T_est[:3, 3] - T_true[:3, 3], so3_log(T_est[:3, :3] @ T_true[:3, :3].T)])
