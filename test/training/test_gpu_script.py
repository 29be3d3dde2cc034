"""scripts/gpu_train.sh works the first time: the same script, on the CPU, without ROS, PoseLib or tqdm."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import torch
from support.gpu_machine import ROOT, gpu_machine_env

from loftr_ros.loftr.weights import load_weights


def test_gpu_train_script_smoke_run_on_cpu(tmp_path: Path) -> None:
    env = gpu_machine_env(GPU_TRAIN_DEVICE="cpu", GPU_TRAIN_SECONDS="4", OUT=str(tmp_path / "results"))
    args = [str(ROOT / "scripts" / "gpu_train.sh"), str(tmp_path / "run"), "--workers", "1", "--batch-size", "2",
            "--width", "160", "--height", "120", "--log-every", "1"]  # fmt: skip
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = tmp_path / "results"
    names = sorted(p.name for p in results.iterdir())
    assert names == sorted(["log.csv", "loftr_small.json", "loftr_small.safetensors", "loss.png", "run.log",
                            "train_config.json"])  # fmt: skip
    assert len(names) <= 8 and all((results / n).stat().st_size < 16 * 2**20 for n in names)  # what comes back
    assert len(list(csv.DictReader((results / "log.csv").open()))) >= 1
    state, _ = load_weights(results / "loftr_small.safetensors")
    assert all(torch.isfinite(v).all() for v in state.values())
