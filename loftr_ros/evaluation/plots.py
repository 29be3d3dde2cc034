"""Figures of a localization run (PNG): trajectory top view, error over time, a montage of matches.

Matplotlib runs on its Agg backend (no display needed) and is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from loftr_ros.evaluation.report import FrameRecord


def _pyplot() -> Any:  # matplotlib.pyplot, imported on first use
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_trajectory(
    records: Sequence[FrameRecord],
    path: str | os.PathLike[str],
    title: str = "",
    keyframe_poses: Sequence[np.ndarray] = (),
) -> Path:
    """Top view (map x right, map y up; z is up in both our synthetic rooms and TUM's motion-capture world):
    the keyframes, ground truth as a line, estimates as dots joined to their ground truth, and each frame
    that was not localized on its ground truth, one marker per reason."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 6.2), dpi=110)
    if len(keyframe_poses):
        k = np.array([T[:3, 3] for T in keyframe_poses])
        ax.plot(k[:, 0], k[:, 1], "^", ms=7, color="tab:green", alpha=0.8, label=f"keyframe ({len(k)})")
    gt = np.array([r.T_gt[:3, 3] for r in records if r.T_gt is not None]).reshape(-1, 3)
    if len(gt):
        ax.plot(gt[:, 0], gt[:, 1], "-", color="0.4", lw=1.2, label="ground truth")
    est = [(r.T_est[:3, 3], r.T_gt) for r in records if r.T_est is not None]
    if est:
        e = np.array([p for p, _ in est])
        ax.plot(e[:, 0], e[:, 1], "o", ms=3.5, color="tab:blue", label=f"estimate ({len(e)})")
        for p, T_gt in est:
            if T_gt is not None:
                ax.plot([p[0], T_gt[0, 3]], [p[1], T_gt[1, 3]], "-", color="tab:blue", lw=0.6, alpha=0.6)
    by_reason: dict[str, list[np.ndarray]] = {}
    for r in records:
        if r.T_est is None and r.T_gt is not None:
            by_reason.setdefault(failure_reason(r.reason), []).append(r.T_gt[:3, 3])
    for (reason, points), marker in zip(sorted(by_reason.items()), "xXP*sD", strict=False):
        p = np.array(points)
        ax.plot(p[:, 0], p[:, 1], marker, ms=7, color="tab:red", label=f"not localized: {reason} ({len(p)})")
    ax.set_xlabel("map x [m]")
    ax.set_ylabel("map y [m]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "trajectory, top view")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def failure_reason(reason: str) -> str:
    """The kind of a failure without its numbers: 'too few matches: 4 < 30' -> 'too few matches'."""
    return reason.split(":")[0].strip() or "no reason given"


def plot_errors(records: Sequence[FrameRecord], path: str | os.PathLike[str], title: str = "") -> Path:
    """Translation (cm) and rotation (deg) error against time since the first frame; failures marked."""
    plt = _pyplot()
    fig, (ax_t, ax_r) = plt.subplots(2, 1, figsize=(7.0, 4.8), dpi=100, sharex=True)
    if records:
        t0 = records[0].stamp_ns
        time_s = np.array([(r.stamp_ns - t0) / 1e9 for r in records])
        t_err = np.array([r.translation_error_m * 100 for r in records])
        r_err = np.array([r.rotation_error_deg for r in records])
        failed = np.array([not r.localized for r in records])
        ax_t.plot(time_s, t_err, ".-", color="tab:blue", ms=4)
        ax_r.plot(time_s, r_err, ".-", color="tab:orange", ms=4)
        for ax in (ax_t, ax_r):
            for x in time_s[failed]:
                ax.axvline(x, color="tab:red", alpha=0.25, lw=2)
    for ax, (strict, loose), unit in ((ax_t, (5.0, 10.0), "cm"), (ax_r, (2.0, 5.0), "deg")):
        ax.axhline(strict, color="tab:green", ls="--", lw=1, label=f"{strict:g} {unit} (5 cm / 2 deg)")
        ax.axhline(loose, color="tab:olive", ls=":", lw=1, label=f"{loose:g} {unit} (10 cm / 5 deg)")
        ax.legend(loc="upper right", fontsize=7)
    ax_t.set_ylabel("translation [cm]")
    ax_r.set_ylabel("rotation [deg]")
    ax_r.set_xlabel("time [s] (red bands: not localized)")
    for ax in (ax_t, ax_r):
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    fig.suptitle(title or "pose error over time")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def montage(
    tiles: Sequence[np.ndarray], path: str | os.PathLike[str], columns: int = 1, width: int | None = None
) -> Path:
    """Stack RGB drawings (e.g. :func:`loftr_ros.visualization.draw_matches`) in a grid and write it as PNG;
    at full resolution by default (one column, as wide as the widest tile), else resized to ``width``."""
    if not tiles:
        raise ValueError("montage needs at least one tile")
    tile_w = max(1, (width or columns * max(t.shape[1] for t in tiles)) // columns)
    resized = []
    for tile in tiles:
        scale = tile_w / tile.shape[1]
        resized.append(
            cv2.resize(tile, (tile_w, max(1, round(tile.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        )
    tile_h = max(t.shape[0] for t in resized)
    rows = -(-len(resized) // columns)
    canvas = np.zeros((rows * tile_h, columns * tile_w, 3), np.uint8)
    for i, tile in enumerate(resized):
        y, x = (i // columns) * tile_h, (i % columns) * tile_w
        canvas[y : y + tile.shape[0], x : x + tile_w] = tile
    if not cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {path}")
    return Path(path)
