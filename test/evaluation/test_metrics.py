"""Metrics on a hand-made trajectory whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loftr_ros.evaluation import metrics


def rot_z(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pose(x: float, y: float = 0.0, z: float = 0.0, yaw_deg: float = 0.0) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = rot_z(yaw_deg)
    T[:3, 3] = (x, y, z)
    return T


# ground truth: 5 poses 1 m apart along x, looking the same way
GT = np.stack([pose(float(i)) for i in range(5)])


def test_constant_offset_is_all_ate_and_no_rpe() -> None:
    est = GT.copy()
    est[:, :3, 3] += (0.03, 0.04, 0.0)  # 5 cm everywhere: no alignment may remove it
    np.testing.assert_allclose(metrics.translation_errors(est, GT), 0.05)
    assert metrics.ate_rmse(est, GT) == pytest.approx(0.05)
    t, r = metrics.relative_pose_errors(est, GT)
    np.testing.assert_allclose(t, 0.0, atol=1e-12)
    np.testing.assert_allclose(r, 0.0, atol=1e-6)


def test_one_displaced_frame() -> None:
    est = GT.copy()
    est[2, 1, 3] = 0.3  # frame 2 is 30 cm off sideways
    assert metrics.ate_rmse(est, GT) == pytest.approx(math.sqrt(0.09 / 5))
    t, r = metrics.relative_pose_errors(est, GT)
    np.testing.assert_allclose(t, [0.0, 0.3, 0.3, 0.0], atol=1e-12)  # both motions touching frame 2
    np.testing.assert_allclose(r, 0.0, atol=1e-6)


def test_rotation_errors_and_rpe_of_a_turned_frame() -> None:
    est = GT.copy()
    est[3] = pose(3.0, yaw_deg=10.0)
    np.testing.assert_allclose(metrics.rotation_errors_deg(est, GT), [0, 0, 0, 10, 0], atol=1e-6)
    np.testing.assert_allclose(metrics.translation_errors(est, GT), 0.0, atol=1e-12)
    t, r = metrics.relative_pose_errors(est, GT)
    np.testing.assert_allclose(r, [0, 0, 10, 10], atol=1e-6)
    # leaving frame 3 turned by 10 deg, the 1 m step forward is seen 10 deg off: |2 sin(5 deg)| m
    assert t[3] == pytest.approx(2 * math.sin(math.radians(5)))
    assert t[2] == pytest.approx(0.0, abs=1e-12)


def test_small_and_half_turn_angles_are_accurate() -> None:
    angles = metrics.rotation_angles_deg(np.stack([rot_z(1e-5), rot_z(90), rot_z(180), rot_z(-179.9)]))
    np.testing.assert_allclose(angles, [1e-5, 90, 180, 179.9], rtol=1e-6)


def test_percentiles_and_success_rates() -> None:
    values = np.arange(1, 101, dtype=float)  # 1..100
    assert metrics.percentiles(values) == {
        "p50": 50.5,
        "p90": pytest.approx(90.1),
        "p99": pytest.approx(99.01),
    }
    assert all(math.isnan(v) for v in metrics.percentiles([]).values())
    t = np.array([0.01, 0.04, 0.08, 0.2, np.nan])  # the last frame was not localized
    r = np.array([1.0, 3.0, 1.0, 1.0, np.nan])
    rates = metrics.success_rates(t, r)
    assert rates == {"5cm_2deg": pytest.approx(1 / 5), "10cm_5deg": pytest.approx(3 / 5)}
    assert metrics.threshold_key(0.05, 2.0) == "5cm_2deg"


def test_latency_percentiles_per_stage_and_total() -> None:
    timings = [{"retrieve": 0.001, "match": 0.1, "pose": 0.01}, {"retrieve": 0.003, "match": 0.3}]
    out = metrics.latency_percentiles(timings)
    assert list(out) == ["retrieve", "match", "pose", "total"]
    assert out["match"]["p50"] == pytest.approx(0.2)
    assert out["pose"] == {"p50": pytest.approx(0.01), "p90": pytest.approx(0.01)}
    assert out["total"]["p50"] == pytest.approx((0.111 + 0.303) / 2)


def test_empty_and_mismatched_inputs() -> None:
    assert math.isnan(metrics.ate_rmse(np.zeros((0, 4, 4)), np.zeros((0, 4, 4))))
    t, r = metrics.relative_pose_errors(GT[:1], GT[:1])
    assert t.shape == r.shape == (0,)
    with pytest.raises(ValueError, match="5 estimates but 4 ground-truth poses"):
        metrics.ate_rmse(GT, GT[:4])
    with pytest.raises(ValueError, match=r"must be \(N, 4, 4\) poses"):
        metrics.translation_errors(np.eye(4), GT)
