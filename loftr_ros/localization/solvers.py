"""Pose strategies: from a query's matches against keyframes to a pose, or a reason there is none.

By what the map offers:

1. ``solve_absolute``: keyframes with depth. Their keypoints are back-projected into the map frame and all
   keyframes' 2D-3D correspondences go into one LO-RANSAC absolute pose; covariance from its inliers.
2. ``solve_relative`` without depth: a relative pose (unit translation) to each keyframe filters the
   matches. Query pixels that are inliers in two posed keyframes (LoFTR's query keypoints are grid points,
   the same for every keyframe) are triangulated from those keyframes and solved as an absolute pose
   (``solve_bridged``: metric, with a covariance that ignores the points' own uncertainty).
3. Otherwise the query's optical centre is intersected from the keyframes' rays (direction of each
   relative translation); rotation from the best keyframe; no covariance (``None``).
   One keyframe alone gives no scale: NOT_LOCALIZED.

Each writes the pose, covariance, inlier counts and RMSE into the result, or a ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from loftr_ros.localization import gates as gates_mod
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.localization.pose import (
    backproject,
    estimate_absolute_pose,
    estimate_relative_pose,
    intersect_rays,
    triangulate_points,
)
from loftr_ros.localization.types import CameraIntrinsics, Keyframe, LocalizationResult, MatchSet

KeyframeLookup = Callable[[str], Keyframe]


def solve(
    result: LocalizationResult, intrinsics: CameraIntrinsics, keyframe: KeyframeLookup, config: LocalizerConfig
) -> None:
    """The strategy the matched keyframes allow: absolute with depth, else relative."""
    with_depth = [m for m in result.matches if len(m) and keyframe(m.keyframe_id).depth is not None]
    if with_depth:
        solve_absolute(result, with_depth, intrinsics, keyframe, config)
    else:
        solve_relative(result, intrinsics, keyframe, config)


def solve_absolute(
    result: LocalizationResult,
    sets: Sequence[MatchSet],
    intrinsics: CameraIntrinsics,
    keyframe: KeyframeLookup,
    config: LocalizerConfig,
) -> None:
    pts2d, pts3d, owners = [], [], []
    for m in sets:
        kf = keyframe(m.keyframe_id)
        X, valid = backproject(m.keypoints_keyframe, kf.depth, kf.intrinsics, kf.T_map_camera, config.pose)
        idx = np.nonzero(valid)[0]
        pts2d.append(m.keypoints_query[idx])
        pts3d.append(X[idx])
        owners.append((m, idx))
    uv, X = np.concatenate(pts2d), np.concatenate(pts3d)
    solution = estimate_absolute_pose(uv, X, intrinsics, config.pose) if len(uv) >= 4 else None
    if solution is None:
        result.reason = f"{gates_mod.TOO_FEW_INLIERS}: no absolute pose from {len(uv)} 2D-3D correspondences"
        return
    start = 0
    for m, idx in owners:
        m.inliers[:] = False
        m.inliers[idx] = solution.inliers[start : start + len(idx)]
        start += len(idx)
    result.T_map_camera = solution.T_map_camera
    result.covariance = solution.covariance
    result.num_inliers = solution.num_inliers
    result.reprojection_rmse_px = solution.rmse_px


def solve_bridged(
    result: LocalizationResult,
    intrinsics: CameraIntrinsics,
    ids: list[str],
    keyframe: KeyframeLookup,
    config: LocalizerConfig,
) -> bool:
    """Scale from structure: query pixels matched (as relative-pose inliers) in two posed keyframes are
    triangulated from those keyframes, then the query is solved as an absolute pose. Works when the
    query lies on the line between the keyframes, where intersecting camera rays cannot.
    Returns False (result untouched) when too few points triangulate."""
    sets = {m.keyframe_id: m for m in result.matches}
    uv_all, X_all = [], []
    for i, a_id in enumerate(ids):
        for b_id in ids[i + 1 :]:
            ma, mb = sets[a_id], sets[b_id]
            index_b = {tuple(np.round(p, 1)): j for j, p in zip(np.nonzero(mb.inliers)[0],
                       mb.keypoints_query[mb.inliers], strict=True)}  # fmt: skip
            pairs = [(j, index_b[key]) for j in np.nonzero(ma.inliers)[0]
                     if (key := tuple(np.round(ma.keypoints_query[j], 1))) in index_b]  # fmt: skip
            if not pairs:
                continue
            ja, jb = np.array(pairs).T
            ka, kb = keyframe(a_id), keyframe(b_id)
            X, valid = triangulate_points(
                ma.keypoints_keyframe[ja], mb.keypoints_keyframe[jb], ka.intrinsics, kb.intrinsics,
                ka.T_map_camera, kb.T_map_camera, config.pose.min_triangulation_angle_deg,
                config.pose.max_reprojection_error_px,
            )  # fmt: skip
            uv_all.append(ma.keypoints_query[ja][valid])
            X_all.append(X[valid])
    n = sum(len(x) for x in X_all)
    if n < config.gates.min_inliers:
        return False
    solution = estimate_absolute_pose(np.concatenate(uv_all), np.concatenate(X_all), intrinsics, config.pose)
    if solution is None or solution.num_inliers < config.gates.min_inliers:
        return False
    result.T_map_camera = solution.T_map_camera
    result.covariance = solution.covariance  # ignores the triangulated points' own uncertainty
    result.reprojection_rmse_px = solution.rmse_px
    return True


def solve_relative(
    result: LocalizationResult, intrinsics: CameraIntrinsics, keyframe: KeyframeLookup, config: LocalizerConfig
) -> None:
    solved = []
    for m in result.matches:
        if len(m) < 5:
            continue
        kf = keyframe(m.keyframe_id)
        rel = estimate_relative_pose(m.keypoints_keyframe, m.keypoints_query, kf.intrinsics, intrinsics, config.pose)
        if rel is not None and rel.num_inliers >= config.gates.min_inliers:
            m.inliers[:] = rel.inliers
            solved.append((rel, kf))
    solved.sort(key=lambda s: -s[0].num_inliers)
    result.num_inliers = sum(r.num_inliers for r, _ in solved)
    if len(solved) >= 2 and solve_bridged(result, intrinsics, [kf.id for _, kf in solved], keyframe, config):
        return
    if len(solved) < 2:
        result.reason = (
            f"{gates_mod.TOO_FEW_INLIERS}: no depth, and {len(solved)} keyframe(s) with a relative pose; "
            "two posed keyframes are needed for a metric position"
        )
        return
    origins = np.stack([kf.T_map_camera[:3, 3] for _, kf in solved])
    directions = np.stack([rel.centre_direction_in(kf.T_map_camera) for rel, kf in solved])
    point, angle, along = intersect_rays(origins, directions)
    if angle < config.pose.min_triangulation_angle_deg or np.any(along <= 0):
        result.reason = (
            f"no depth and the keyframes' rays to the query do not intersect well "
            f"(angle {angle:.1f} deg < {config.pose.min_triangulation_angle_deg} deg or behind a keyframe)"
        )
        return
    best_rel, best_kf = solved[0]
    T = np.eye(4)
    T[:3, :3] = best_kf.T_map_camera[:3, :3] @ best_rel.T_query_keyframe[:3, :3].T
    T[:3, 3] = point
    result.T_map_camera = T
    result.covariance = None  # no reprojection residuals on this path (module docstring, case 3)
