#!/usr/bin/env bash
# The GPU checks, for a machine with one large GPU for at most 4 minutes (no registry, no ROS).
#
#   scripts/gpu_bench.sh
#
# 1. the GPU-marked tests (fp16/bf16 autocast against fp32) -> $OUT/gpu_tests.log
# 2. benchmark-models: one 640x480 query against k = 1, 4, 8 cached keyframes, fp32/bf16/fp16, p50/p99 per
#    frame, for the shipped and the published-size model -> $OUT/gpu_bench.md (target: >= 30 frames/s at
#    k = 4 with the published-size model)
# OUT defaults to out/gpu_bench. GPU_BENCH_DEVICE=cpu GPU_BENCH_SIZE=160x120 GPU_BENCH_REPEATS=1 runs the
# same path on a CPU (the test suite's smoke run).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/gpu_bench}
device=${GPU_BENCH_DEVICE:-cuda}
size=${GPU_BENCH_SIZE:-640x480}
repeats=${GPU_BENCH_REPEATS:-30}
python=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$out"
status=0
echo "[gpu-bench] $(date -u +%T) GPU tests"
if [ "$device" = cuda ]; then
  timeout 90 "$python" -m pytest -q -p no:cacheprovider -m gpu test/loftr/test_matcher.py 2>&1 | tee "$out/gpu_tests.log"
  status=${PIPESTATUS[0]}
else
  echo "skipped: GPU_BENCH_DEVICE=$device" | tee "$out/gpu_tests.log"
fi
echo "[gpu-bench] $(date -u +%T) benchmark"
timeout 150 "$python" -m loftr_ros.cli benchmark-models --device "$device" --size "$size" --keyframes 1 4 8 \
  --repeats "$repeats" --output "$out/gpu_bench.md" 2>&1 | tee "$out/gpu_bench.log"
bench=${PIPESTATUS[0]}
echo "[gpu-bench] $(date -u +%T) tests exit $status, benchmark exit $bench; results in $out"
[ "$status" -eq 0 ] && [ "$bench" -eq 0 ]
