"""Rigid transforms as 4x4 matrices, rotation vectors and unit quaternions (x, y, z, w, as ROS and TUM write them).

The one place for these helpers: the core, the conversions, the tools and the tests all use them.
"""

from __future__ import annotations

import numpy as np

from loftr_ros.errors import LoftrRosError


def quaternion_to_matrix(q_xyzw: np.ndarray | tuple[float, float, float, float]) -> np.ndarray:
    """Rotation matrix (3, 3) of a quaternion (x, y, z, w); normalised first, zero or non-finite refused."""
    q = np.asarray(q_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if q.shape != (4,) or not np.isfinite(q).all() or norm < 1e-9:
        msg = f"quaternion {q.tolist()} is not a rotation (needs four finite values, not all zero)"
        raise LoftrRosError(msg)
    x, y, z, w = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(R: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) with w >= 0 of a rotation matrix (3, 3)."""
    R = np.asarray(R, dtype=np.float64)
    trace = R[0, 0] + R[1, 1] + R[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s, 0.25 * s]
    elif R[0, 0] > R[1, 1] and R[0, 0] > R[2, 2]:
        s = 2.0 * np.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2])
        q = [0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s, (R[2, 1] - R[1, 2]) / s]
    elif R[1, 1] > R[2, 2]:
        s = 2.0 * np.sqrt(1.0 + R[1, 1] - R[0, 0] - R[2, 2])
        q = [(R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s, (R[0, 2] - R[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + R[2, 2] - R[0, 0] - R[1, 1])
        q = [(R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s, (R[1, 0] - R[0, 1]) / s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def pose_from_tq(t: np.ndarray, q_xyzw: np.ndarray) -> np.ndarray:
    """4x4 pose from a translation and a quaternion (x, y, z, w)."""
    return make_transform(quaternion_to_matrix(q_xyzw), t)


def make_transform(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4x4 homogeneous transform from a rotation (3, 3) and a translation (3,)."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def invert_transform(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform, without a general matrix inverse."""
    R, t = T[:3, :3], T[:3, 3]
    return make_transform(R.T, -R.T @ t)


def rotation_angle_deg(R: np.ndarray) -> float:
    """Angle of a rotation matrix in degrees (the geodesic distance to the identity)."""
    cos = (np.trace(R) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def skew(v: np.ndarray) -> np.ndarray:
    """The 3x3 matrix ``[v]x`` with ``[v]x @ w == cross(v, w)``."""
    x, y, z = np.asarray(v, dtype=np.float64)
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def so3_exp(w: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector (axis * angle, radians)."""
    w = np.asarray(w, dtype=np.float64)
    theta = float(np.linalg.norm(w))
    W = skew(w)
    if theta < 1e-10:
        return np.eye(3) + W
    return np.eye(3) + np.sin(theta) / theta * W + (1 - np.cos(theta)) / theta**2 * (W @ W)


def so3_log(R: np.ndarray) -> np.ndarray:
    """Rotation vector of a rotation matrix (inverse of :func:`so3_exp`), robust near pi."""
    q = matrix_to_quaternion(R)
    v, w = q[:3], q[3]
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        return 2.0 * v
    return v / n * (2.0 * np.arctan2(n, w))


def pose_error(T_est: np.ndarray, T_true: np.ndarray) -> tuple[float, float]:
    """(translation error in metres, rotation error in degrees) between two poses of the same frame."""
    return (
        float(np.linalg.norm(T_est[:3, 3] - T_true[:3, 3])),
        rotation_angle_deg(T_est[:3, :3] @ T_true[:3, :3].T),
    )


def interpolate_pose(T0: np.ndarray, T1: np.ndarray, alpha: float) -> np.ndarray:
    """Pose at fraction ``alpha`` from T0 to T1 (linear translation, geodesic rotation)."""
    R = so3_exp(alpha * so3_log(T1[:3, :3] @ T0[:3, :3].T)) @ T0[:3, :3]
    return make_transform(R, (1 - alpha) * T0[:3, 3] + alpha * T1[:3, 3])
