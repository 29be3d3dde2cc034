"""Pose from known geometry: absolute (with depth), relative + ray intersection (without), back-projection."""

from __future__ import annotations

import numpy as np
import pytest

from localization.scene import INTRINSICS, depth_image, look_at, project, world_points
from loftr_ros.localization.config import PoseConfig
from loftr_ros.localization.pose import (
    backproject,
    estimate_absolute_pose,
    estimate_relative_pose,
    intersect_rays,
    sample_depth,
    undistort_points,
)
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.transforms import invert_transform, pose_error


def _query(rng: np.random.Generator):
    X = world_points(rng)
    T = look_at(np.array([0.3, -0.5, 1.4]), np.array([2.0, 5.0, 1.2]))
    uv, vis = project(T, X)
    return X[vis], uv[vis], T


def test_absolute_pose_reaches_millimetres_with_noise_and_outliers() -> None:
    rng = np.random.default_rng(1)
    X, uv, T_true = _query(rng)
    uv = uv + rng.normal(0, 0.5, uv.shape)
    n_out = len(uv) // 3
    uv[:n_out] = rng.uniform([0, 0], [639, 479], (n_out, 2))  # a third are outliers
    sol = estimate_absolute_pose(uv, X, INTRINSICS)
    assert sol is not None
    dt, dr = pose_error(sol.T_map_camera, T_true)
    assert dt < 0.005 and dr < 0.2
    assert sol.inliers[n_out:].mean() > 0.95 and sol.inliers[:n_out].mean() < 0.1
    assert 0.4 < sol.rmse_px < 1.0  # about sqrt(2) * 0.5 px
    assert sol.covariance.shape == (6, 6) and np.all(np.linalg.eigvalsh(sol.covariance) > 0)


def test_absolute_pose_needs_four_points() -> None:
    assert estimate_absolute_pose(np.zeros((3, 2)), np.ones((3, 3)), INTRINSICS) is None


def test_absolute_pose_with_distortion_uses_the_ideal_pinhole() -> None:
    rng = np.random.default_rng(2)
    X, uv, T_true = _query(rng)
    K = CameraIntrinsics(640, 480, 500.0, 500.0, 319.5, 239.5, "plumb_bob", (-0.2, 0.05, 0.001, -0.001, 0.0))
    import cv2

    distorted = cv2.projectPoints(
        X.reshape(-1, 1, 3), cv2.Rodrigues(invert_transform(T_true)[:3, :3])[0], invert_transform(T_true)[:3, 3], K.K,
        np.asarray(K.distortion),
    )[0].reshape(-1, 2)  # fmt: skip
    np.testing.assert_allclose(undistort_points(distorted, K), uv, atol=1e-3)
    sol = estimate_absolute_pose(distorted, X, K)
    dt, dr = pose_error(sol.T_map_camera, T_true)
    assert dt < 1e-4 and dr < 1e-3


def test_backproject_recovers_points_with_bilinear_and_nearest_depth() -> None:
    rng = np.random.default_rng(3)
    X, uv, T = _query(rng)
    depth = depth_image(T, X)
    for mode, tol in (("bilinear", 2e-3), ("nearest", 0.1)):
        Xb, valid = backproject(uv, depth, INTRINSICS, T, PoseConfig(depth_interpolation=mode))
        assert valid.mean() > 0.9
        err = np.linalg.norm(Xb[valid] - X[valid], axis=1)
        assert np.median(err) < tol, mode


def test_depth_sampling_rejects_unknown_and_edges() -> None:
    depth = np.ones((10, 10), np.float32)
    depth[:, 5:] = 3.0  # a depth edge between columns 4 and 5
    depth[0, 0] = 0.0
    depth[9, 9] = np.nan
    z = sample_depth(depth, np.array([[2.5, 2.5], [4.5, 3.0], [0.2, 0.2], [8.6, 8.6], [-1.0, 2.0], [7.0, 7.0]]))
    assert z[0] == pytest.approx(1.0) and z[5] == pytest.approx(3.0)
    assert np.isnan(z[1:5]).all()  # across the edge, next to 0 and NaN, outside


def test_relative_pose_and_ray_intersection_give_a_metric_position() -> None:
    rng = np.random.default_rng(4)
    X = world_points(rng)
    target = np.array([5.0, 5.0, 1.3])  # a corner: two walls, so the 5-point problem is not planar
    T_q = look_at(np.array([0.0, 0.0, 1.4]), target)
    keyframes = [look_at(np.array([-0.8, 0.3, 1.5]), target), look_at(np.array([0.6, -0.7, 1.3]), target)]
    origins, directions = [], []
    uq, vq = project(T_q, X)
    for T_k in keyframes:
        uk, vk = project(T_k, X)
        both = vq & vk
        rel = estimate_relative_pose(uk[both], uq[both] + rng.normal(0, 0.3, uq[both].shape), INTRINSICS, INTRINSICS)
        T_qk_true = invert_transform(T_q) @ T_k
        dt_dir = np.degrees(
            np.arccos(np.clip(rel.T_query_keyframe[:3, 3] @ T_qk_true[:3, 3] / np.linalg.norm(T_qk_true[:3, 3]), -1, 1))
        )
        assert dt_dir < 2.0
        assert pose_error(np.eye(4) @ rel.T_query_keyframe, T_qk_true)[1] < 0.2
        origins.append(T_k[:3, 3])
        directions.append(rel.centre_direction_in(T_k))
    point, angle, along = intersect_rays(np.array(origins), np.array(directions))
    assert angle > 10 and (along > 0).all()
    assert np.linalg.norm(point - T_q[:3, 3]) < 0.03


def test_intersect_rays_exact() -> None:
    p = np.array([1.0, 2.0, 3.0])
    o = np.array([[0.0, 0, 0], [5.0, 0, 0], [0.0, 7, 0]])
    point, _, along = intersect_rays(o, p - o)
    np.testing.assert_allclose(point, p, atol=1e-9)
    np.testing.assert_allclose(along, np.linalg.norm(p - o, axis=1))
