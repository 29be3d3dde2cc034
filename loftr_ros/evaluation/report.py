"""Per-frame records of a localization run and the summary, CSV and JSON written from them (no ROS)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loftr_ros.evaluation import metrics
from loftr_ros.transforms import matrix_to_quaternion

ALIGNMENT_NOTE = (
    "ATE and errors are computed WITHOUT alignment: the map frame is the ground-truth frame "
    "(keyframe poses are ground truth), so any offset is the localizer's error"
)


@dataclass
class FrameRecord:
    """What happened to one query frame."""

    index: int
    stamp_ns: int
    state: str  # LocalizationState name
    reason: str
    T_est: np.ndarray | None  # (4, 4) T_map_camera, None unless localized
    T_gt: np.ndarray | None  # (4, 4) ground truth, None when the bag has none at this stamp
    num_matches: int = 0
    num_inliers: int = 0
    reprojection_rmse_px: float = float("nan")
    keyframe_ids: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    @property
    def localized(self) -> bool:
        return self.T_est is not None

    @property
    def translation_error_m(self) -> float:
        if self.T_est is None or self.T_gt is None:
            return float("nan")
        return float(metrics.translation_errors(self.T_est[None], self.T_gt[None])[0])

    @property
    def rotation_error_deg(self) -> float:
        if self.T_est is None or self.T_gt is None:
            return float("nan")
        return float(metrics.rotation_errors_deg(self.T_est[None], self.T_gt[None])[0])


def summarize(
    records: Sequence[FrameRecord], thresholds: Sequence[tuple[float, float]] = metrics.SUCCESS_THRESHOLDS
) -> dict[str, Any]:
    """Accuracy (deterministic for a given run) and latency (wall time, varies run to run) of a run.

    ``success_rate`` is localized / frames; ``within`` is the share of frames WITH ground truth whose
    pose is within each threshold (failures count as misses); ATE, RPE and percentiles use the localized
    frames with ground truth; RPE pairs consecutive such frames.
    """
    with_gt = [r for r in records if r.T_gt is not None]
    scored = [r for r in with_gt if r.localized]
    t_err = np.array([r.translation_error_m for r in with_gt])
    r_err = np.array([r.rotation_error_deg for r in with_gt])
    T_est = np.stack([r.T_est for r in scored]) if scored else np.zeros((0, 4, 4))
    T_gt = np.stack([r.T_gt for r in scored]) if scored else np.zeros((0, 4, 4))
    rpe_t, rpe_r = metrics.relative_pose_errors(T_est, T_gt)
    localized = sum(r.localized for r in records)
    states: dict[str, int] = {}
    for r in records:
        states[r.state] = states.get(r.state, 0) + 1
    accuracy = {
        "frames": len(records),
        "localized": localized,
        "with_ground_truth": len(with_gt),
        "success_rate": localized / len(records) if records else float("nan"),
        "states": states,
        "within": metrics.success_rates(t_err, r_err, thresholds),
        "ate_rmse_m": metrics.ate_rmse(T_est, T_gt),
        "translation_error_m": metrics.percentiles(t_err[np.isfinite(t_err)]),
        "rotation_error_deg": metrics.percentiles(r_err[np.isfinite(r_err)]),
        "rpe": {
            "pairs": len(rpe_t),
            "translation_rmse_m": metrics.rmse(rpe_t),
            "translation_mean_m": float(np.mean(rpe_t)) if len(rpe_t) else float("nan"),
            "rotation_rmse_deg": metrics.rmse(rpe_r),
            "rotation_mean_deg": float(np.mean(rpe_r)) if len(rpe_r) else float("nan"),
        },
        "note": ALIGNMENT_NOTE,
    }
    tried = [len(r.keyframe_ids) for r in records if r.keyframe_ids]
    return {
        "accuracy": accuracy,
        "latency_s": metrics.latency_percentiles(r.timings for r in records),
        "keyframes_matched_mean": float(np.mean(tried)) if tried else 0.0,  # the cascade's work per frame
    }


def _jsonable(value: Any) -> Any:
    """NaN and infinities become null (JSON has none); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_json(summary: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(_jsonable(summary), indent=2, sort_keys=False) + "\n")
    return path


CSV_FIELDS = (
    "index", "stamp_ns", "state", "reason", "translation_error_m", "rotation_error_deg",
    "est_x", "est_y", "est_z", "est_qx", "est_qy", "est_qz", "est_qw",
    "gt_x", "gt_y", "gt_z", "gt_qx", "gt_qy", "gt_qz", "gt_qw",
    "num_matches", "num_inliers", "reprojection_rmse_px", "keyframe_ids", "timings",
)  # fmt: skip


def _pose_columns(prefix: str, T: np.ndarray | None) -> dict[str, str]:
    names = [f"{prefix}_{n}" for n in ("x", "y", "z", "qx", "qy", "qz", "qw")]
    if T is None:
        return dict.fromkeys(names, "")
    values = [*T[:3, 3], *matrix_to_quaternion(T[:3, :3])]
    return {n: repr(float(v)) for n, v in zip(names, values, strict=True)}


def _num(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


def write_csv(records: Sequence[FrameRecord], path: str | os.PathLike[str]) -> Path:
    """One row per frame; poses as position + quaternion (x, y, z, w); empty cells for no value."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for r in records:
            row = {
                "index": r.index, "stamp_ns": r.stamp_ns, "state": r.state, "reason": r.reason,
                "translation_error_m": _num(r.translation_error_m),
                "rotation_error_deg": _num(r.rotation_error_deg),
                "num_matches": r.num_matches, "num_inliers": r.num_inliers,
                "reprojection_rmse_px": _num(r.reprojection_rmse_px),
                "keyframe_ids": " ".join(r.keyframe_ids),
                "timings": " ".join(f"{k}={v:.6f}" for k, v in r.timings.items()),
                **_pose_columns("est", r.T_est), **_pose_columns("gt", r.T_gt),
            }  # fmt: skip
            writer.writerow(row)
    return path


def format_summary(summary: dict[str, Any]) -> str:
    """A few human-readable lines of the summary."""
    a = summary["accuracy"]
    within = ", ".join(f"{k} {v:.1%}" for k, v in a["within"].items() if v == v)
    t, r, rpe = a["translation_error_m"], a["rotation_error_deg"], a["rpe"]
    lines = [f"frames {a['frames']}, localized {a['localized']} ({a['success_rate']:.1%} of all frames)"]
    if not a["with_ground_truth"]:
        lines.append("no ground truth: accuracy not measured")
    elif not np.isfinite(a["ate_rmse_m"]):
        lines.append(f"of the {a['with_ground_truth']} frames with ground truth, within: {within}; none localized")
    else:
        lines += [
            f"of the {a['with_ground_truth']} frames with ground truth, within: {within}",
            f"ATE (no alignment) {a['ate_rmse_m']:.4f} m; RPE over {rpe['pairs']} pairs: "
            f"{rpe['translation_rmse_m']:.4f} m, {rpe['rotation_rmse_deg']:.3f} deg (RMSE)",
            f"translation error p50/p90/p99 {t['p50']:.4f} / {t['p90']:.4f} / {t['p99']:.4f} m; "
            f"rotation {r['p50']:.3f} / {r['p90']:.3f} / {r['p99']:.3f} deg",
        ]
    lines += [
        "latency p50/p90: "
        + ", ".join(
            f"{k} {v['p50'] * 1e3:.1f}/{v['p90'] * 1e3:.1f} ms" for k, v in summary["latency_s"].items()
        )
        + f"; keyframes matched per frame {summary.get('keyframes_matched_mean', 0.0):.2f}",
    ]
    return "\n".join(lines)
