"""Pose errors, AUC, the PoseLib relative pose and the OpenCV baselines, from known geometry."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.errors import ConfigError
from loftr_ros.synthetic import HomographyConfig, PairConfig, SceneConfig, sample_homography_pair, sample_pair
from loftr_ros.training.evaluation import (
    RelativePose,
    estimate_relative_pose,
    evaluate_pair,
    pose_auc,
    pose_error_deg,
    rotation_error_deg,
    symmetric_epipolar_distance,
    translation_error_deg,
)


def rotation_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def test_auc_matches_a_hand_computed_value() -> None:
    # errors 0 (prepended), 1, 2, 3, inf; recall 0, .25, .5, .75, 1. Up to 5 degrees the curve
    # rises to 0.75 at 3 then stays flat: area 0.125 + 0.375 + 0.625 + 1.5 = 2.625, over 5 -> 0.525
    auc = pose_auc([3.0, 1.0, np.inf, 2.0])
    assert auc["auc@5"] == pytest.approx(0.525)
    assert pose_auc([0.0, 0.0])["auc@20"] == pytest.approx(1.0)
    assert pose_auc([np.inf, 30.0])["auc@10"] == 0.0
    with pytest.raises(ConfigError, match="at least one"):
        pose_auc([])


def test_pose_errors_of_known_rotations_and_translations() -> None:
    assert rotation_error_deg(rotation_y(10.0), np.eye(3)) == pytest.approx(10.0)
    t = np.array([1.0, 0.0, 0.0])
    assert translation_error_deg(t, -t) == pytest.approx(0.0)  # the sign is not observable
    assert translation_error_deg(t, np.array([0.0, 0.0, 2.0])) == pytest.approx(90.0)
    assert translation_error_deg(np.zeros(3), t) == 0.0
    T = np.eye(4)
    T[:3, :3] = rotation_y(3.0)
    T[:3, 3] = [1.0, 0.0, 0.0]
    estimate = RelativePose(np.eye(3), np.array([1.0, 0.0, 0.0]), np.ones(5, bool), 5)
    assert pose_error_deg(T, estimate) == pytest.approx(3.0)
    assert pose_error_deg(T, None) == math.inf


def synthetic_correspondences(n: int, noise_px: float, outliers: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    K = np.array([[300.0, 0, 159.5], [0, 300.0, 119.5], [0, 0, 1]])
    T = np.eye(4)
    T[:3, :3] = rotation_y(8.0)
    T[:3, 3] = [-0.4, 0.05, 0.1]
    X = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n), rng.uniform(3, 8, n)])
    X1 = X @ T[:3, :3].T + T[:3, 3]
    p0 = X @ K.T
    p1 = X1 @ K.T
    p0 = p0[:, :2] / p0[:, 2:] + rng.normal(0, noise_px, (n, 2))
    p1 = p1[:, :2] / p1[:, 2:] + rng.normal(0, noise_px, (n, 2))
    bad = rng.random(n) < outliers
    p1[bad] = rng.uniform([0, 0], [320, 240], (int(bad.sum()), 2))
    return p0, p1, K, T, bad


def test_relative_pose_is_recovered_despite_noise_and_outliers() -> None:
    p0, p1, K, T, bad = synthetic_correspondences(300, noise_px=0.3, outliers=0.3)
    estimate = estimate_relative_pose(p0, p1, K, K, threshold_px=1.0)
    assert estimate is not None
    assert pose_error_deg(T, estimate) < 1.0
    assert np.linalg.norm(estimate.t) == pytest.approx(1.0)
    # the outliers are (nearly all) flagged as such
    assert estimate.inliers[bad].mean() < 0.1 and estimate.inliers[~bad].mean() > 0.9


def test_too_few_points_give_no_pose() -> None:
    p0, p1, K, _, _ = synthetic_correspondences(4, 0.0, 0.0)
    assert estimate_relative_pose(p0, p1, K, K) is None
    with pytest.raises(ConfigError, match="same shape"):
        estimate_relative_pose(p0, p1[:3], K, K)


def test_symmetric_epipolar_distance_is_zero_for_true_matches() -> None:
    p0, p1, K, T, _ = synthetic_correspondences(50, 0.0, 0.0)
    assert symmetric_epipolar_distance(p0, p1, T, K, K).max() < 1e-10
    shifted = p1 + np.array([0.0, 5.0])
    assert np.median(symmetric_epipolar_distance(p0, shifted, T, K, K)) > 5e-5


def test_sift_baseline_recovers_the_pose_of_a_synthetic_pair() -> None:
    config = PairConfig(occluder_prob=0.0, nuisances=False)
    pair = sample_pair(7, config, SceneConfig(tile_size=256))
    m = OpenCVMatcher("sift").match_pair(pair.view0.image, pair.view1.image)
    k0, k1, scores = m.keypoints0, m.keypoints1, m.confidence
    assert len(k0) >= 20 and k0.dtype == np.float32 and np.all((scores > 0) & (scores <= 1))
    result = evaluate_pair(k0, k1, pair.view0.intrinsics.K, pair.view1.intrinsics.K, pair.T_0to1)
    assert result.pose_error < 5.0
    assert result.precision > 0.6


def test_orb_baseline_matches_agree_with_the_homography() -> None:
    pair = sample_homography_pair(1, HomographyConfig(nuisances=False, rotation=0.2, perspective=0.05))
    m = OpenCVMatcher("orb", ratio=None).match_pair(pair.view0.image, pair.view1.image)
    k0, k1 = m.keypoints0, m.keypoints1
    assert len(k0) >= 20
    projected = cv2.perspectiveTransform(k0[None].astype(np.float64), pair.H_0to1)[0]
    assert np.mean(np.linalg.norm(projected - k1, axis=1) < 3.0) > 0.7


def test_unknown_matcher_is_rejected() -> None:
    image = np.zeros((32, 32), np.uint8)
    with pytest.raises(ConfigError, match="'sift' or 'orb'"):
        OpenCVMatcher("surf")
    m = OpenCVMatcher("sift").match_pair(image, image)  # a blank image has no features: no matches
    k0, s = m.keypoints0, m.confidence
    assert k0.shape == (0, 2) and s.shape == (0,)


def test_homography_pairs_use_the_pixel_centre_convention() -> None:
    """SIFT keypoints (OpenCV: pixel centres at integers) agree with H_0to1 to a fraction of a pixel.

    A half-pixel slip between the renderer's and OpenCV's conventions would put the median at 0.5 px
    or more.
    """
    pair = sample_homography_pair(1, HomographyConfig(nuisances=False, rotation=0.2, perspective=0.05))
    m = OpenCVMatcher("sift").match_pair(pair.view0.image, pair.view1.image)
    k0, k1 = m.keypoints0, m.keypoints1
    projected = cv2.perspectiveTransform(k0[None].astype(np.float64), pair.H_0to1)[0]
    assert np.median(np.linalg.norm(projected - k1, axis=1)) < 0.3
