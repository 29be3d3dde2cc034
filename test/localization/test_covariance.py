"""The predicted 6x6 covariance agrees with the spread of poses under Gaussian pixel noise."""

from __future__ import annotations

import numpy as np

from localization.scene import INTRINSICS, look_at, project, world_points
from loftr_ros.localization.config import PoseConfig
from loftr_ros.localization.covariance import pose_error_vector, refine_pose, reprojection_errors
from loftr_ros.localization.pose import estimate_absolute_pose
from loftr_ros.transforms import so3_exp


def _setup(n: int = 60):
    rng = np.random.default_rng(10)
    X = world_points(rng)
    T = look_at(np.array([1.0, -1.0, 1.5]), np.array([5.0, 3.0, 1.0]))
    uv, vis = project(T, X)
    idx = rng.choice(np.nonzero(vis)[0], n, replace=False)
    return X[idx], uv[idx], T


def test_mahalanobis_distance_matches_the_predicted_covariance() -> None:
    """Over 300 noisy trials, E[e^T C^-1 e] / 6 is ~1 (accepted in [0.5, 2]), per block too."""
    X, uv, T_true = _setup()
    rng = np.random.default_rng(11)
    m2, errors, covs = [], [], []
    config = PoseConfig(ransac_min_iterations=20, ransac_max_iterations=200)
    for _ in range(300):
        noisy = uv + rng.normal(0, 1.0, uv.shape)
        sol = estimate_absolute_pose(noisy, X, INTRINSICS, config)
        e = pose_error_vector(sol.T_map_camera, T_true)
        m2.append(e @ np.linalg.solve(sol.covariance, e))
        errors.append(e)
        covs.append(sol.covariance)
    ratio = np.mean(m2) / 6
    assert 0.5 <= ratio <= 2.0, ratio
    empirical = np.cov(np.array(errors).T)
    predicted = np.mean(covs, axis=0)
    for block in (slice(0, 3), slice(3, 6)):  # position (m^2) and rotation (rad^2) separately
        r = np.trace(empirical[block, block]) / np.trace(predicted[block, block])
        assert 0.5 <= r <= 2.0, (block, r)


def test_rotation_block_is_a_world_frame_perturbation() -> None:
    """Perturbing R by Exp(w) @ R (left) moves the pose along the covariance's rotation coordinates."""
    X, uv, T = _setup()
    w = np.array([1e-3, -2e-3, 0.5e-3])
    T2 = T.copy()
    T2[:3, :3] = so3_exp(w) @ T[:3, :3]
    np.testing.assert_allclose(pose_error_vector(T2, T)[3:], w, atol=1e-9)
    # Refining from the perturbed pose on exact data returns to the truth.
    T3, _, rmse = refine_pose(T2, X, uv, INTRINSICS.K, iterations=5)
    assert np.abs(pose_error_vector(T3, T)).max() < 1e-8
    assert rmse < 1e-6
    assert np.isfinite(reprojection_errors(T3, X, uv, INTRINSICS.K)).all()


def test_degenerate_input_gives_nan_covariance() -> None:
    X, uv, T = _setup(3)
    _, cov, _ = refine_pose(T, X, uv, INTRINSICS.K)
    assert np.isnan(cov).all()
