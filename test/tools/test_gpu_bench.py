"""scripts/gpu_bench.sh works the first time: the same script on the CPU, without ROS, kornia or tqdm."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.gpu_machine import ROOT, gpu_machine_env


def test_gpu_bench_script_smoke_run_on_cpu(tmp_path: Path) -> None:
    env = gpu_machine_env(GPU_BENCH_DEVICE="cpu", GPU_BENCH_SIZE="96x64", GPU_BENCH_REPEATS="1", OUT=str(tmp_path))
    done = subprocess.run([str(ROOT / "scripts" / "gpu_bench.sh")], env=env, capture_output=True, text=True,
                          timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (tmp_path / "gpu_bench.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| shipped") or line.startswith("| published")]
    assert len(rows) == 6  # two models x k = 1, 4, 8 in fp32 on the CPU
    assert all(float(row.split("|")[4]) > 0 for row in rows)
