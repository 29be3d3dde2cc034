"""The environment of the GPU machine, simulated on this one: its scripts' smoke tests run under it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gpu_machine_env(**variables: str) -> dict[str, str]:
    """This process's environment with ROS, PoseLib, tqdm, kornia and rosbags hidden (the GPU machine has
    none of them) and the scripts pointed at this interpreter, plus ``variables``."""
    return {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT / "test" / "support" / "without_ros"),
        **variables,
    }
