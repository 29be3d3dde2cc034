"""Offline evaluation of localization runs, without ROS: metrics, per-frame reports, plots.

The tool that feeds it from a bag is ``loftr-ros evaluate`` (:mod:`loftr_ros.tools.evaluate`).
"""

from loftr_ros.evaluation.metrics import (
    SUCCESS_THRESHOLDS,
    ate_rmse,
    latency_percentiles,
    percentiles,
    relative_pose_errors,
    rotation_errors_deg,
    success_rates,
    translation_errors,
)
from loftr_ros.evaluation.report import FrameRecord, summarize, write_csv, write_json

__all__ = [
    "SUCCESS_THRESHOLDS",
    "FrameRecord",
    "ate_rmse",
    "latency_percentiles",
    "percentiles",
    "relative_pose_errors",
    "rotation_errors_deg",
    "success_rates",
    "summarize",
    "translation_errors",
    "write_csv",
    "write_json",
]
