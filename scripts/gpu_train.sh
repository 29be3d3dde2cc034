#!/usr/bin/env bash
# A GPU burst of LoFTR training, for a machine with one large GPU for at most 9 minutes.
#
#   scripts/gpu_train.sh [RUN_DIR] [extra `loftr-ros train` options...]
#
# Trains the shipped width from the shipped weights on relocalization-range synthetic pairs rendered on the
# GPU (preset gpu-burst: 15 spawned render workers, batch 48, bf16 autocast, a checkpoint every 60 s) for
# GPU_TRAIN_SECONDS (default 450) of training, then copies what is worth bringing back into $OUT (or
# RUN_DIR/results): the fp16 weights and their JSON config, log.csv, loss.png, train_config.json, run.log.
# Textures: out/textures when present (carry it: `loftr-ros collect-textures --output out/textures`), else
# scikit-image's photos only. Needs Python 3.10+ with torch, numpy, opencv, scikit-image, safetensors;
# no ROS and no package registry. On a CPU machine, GPU_TRAIN_DEVICE=cpu runs the same path (smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=${1:-/tmp/loftr_gpu_run}
shift || true
results=${OUT:-$run_dir/results}
seconds=${GPU_TRAIN_SECONDS:-450}
device=${GPU_TRAIN_DEVICE:-cuda}
python=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$run_dir" "$results"
textures=()
if [ -d out/textures ] && [ -n "$(ls out/textures)" ]; then textures=(--extra-textures "$PWD/out/textures"); fi
render=$device
if [ "$device" = cuda ]; then
  # the render path once on the GPU before 15 workers rely on it; fall back to CPU rendering if it fails
  if ! "$python" -c "
from loftr_ros.synthetic.scene import INDOOR_SCENE, make_scene
from loftr_ros.synthetic.wide_pairs import sample_wide_pair
sample_wide_pair(1, scene=make_scene(1, INDOOR_SCENE).to('cuda'))
print('[gpu-train] rendering on the GPU works')"; then
    echo "[gpu-train] GPU rendering failed: rendering on the CPU workers instead" >&2
    render=cpu
  fi
fi
echo "[gpu-train] $(date -u +%T) training for ${seconds}s on $device (render $render), textures: ${textures[*]:-scikit-image only}"
set +e  # bring back what there is even if training failed
"$python" -m loftr_ros.cli train "$run_dir" --preset gpu-burst --device "$device" --render-device "$render" \
  --time-limit-s "$seconds" "${textures[@]}" "$@" 2>&1 | tr '\r' '\n' | grep --line-buffered -v '^train: ' \
  | tee "$run_dir/run.log"
status=${PIPESTATUS[0]}
set -e
for f in "$run_dir"/loftr_*.safetensors "$run_dir"/loftr_*.json "$run_dir"/log.csv "$run_dir"/loss.png \
    "$run_dir"/train_config.json "$run_dir"/run.log; do
  [ -f "$f" ] && cp "$f" "$results/"
done
echo "[gpu-train] $(date -u +%T) exit $status: $(ls "$results" | tr '\n' ' ')in $results"
exit "$status"
