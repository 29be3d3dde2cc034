"""`loftr-ros benchmark-models`: frames per second of the shipped and the published-size LoFTR, per precision.

A frame is one query matched against k cached keyframes (the node's work per image once retrieval has
chosen them). The published-size model runs with random weights (no official checkpoint can be had
everywhere) and coarse threshold 0, so it matches as much as a trained one would; only its speed counts.
Needs torch only (no kornia, no ROS): it is the GPU machine's benchmark (``scripts/gpu_bench.sh``).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.tools import parse_size

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=parse_size, default="640x480", metavar="WxH", help="camera image size")
    parser.add_argument("--keyframes", type=int, nargs="+", default=[1, 4, 8], help="keyframes matched per frame")
    parser.add_argument("--precisions", nargs="+", default=None, choices=("fp32", "fp16", "bf16"),
                        help="default: fp32, and fp16 and bf16 on CUDA")  # fmt: skip
    parser.add_argument("--models", nargs="+", default=["shipped", "published"], choices=("shipped", "published"))
    parser.add_argument("--repeats", type=int, default=20, help="timed frames per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames before each row")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--output", type=Path, default=None, help="also write the table (Markdown) here")
    parser.epilog = "example: loftr-ros benchmark-models --size 640x480 --keyframes 1 4 8 --output bench.md"


def _model(name: str) -> torch.nn.Module:
    from loftr_ros.loftr import LoFTR, get_config
    from loftr_ros.loftr.weights import build_model

    if name == "shipped":
        return build_model("default")
    torch.manual_seed(0)
    config = get_config("indoor_ds_new")  # the published architecture
    config.match_coarse.thr = 0.0  # random weights: keep every mutual nearest neighbour, as trained ones match
    return LoFTR(config).eval()


def _images(width: int, height: int, count: int) -> list[np.ndarray]:
    import cv2

    rng = np.random.default_rng(0)
    scene = cv2.resize(rng.random((height // 8 + 8, width // 8 + 8)).astype(np.float32), None, fx=8, fy=8)
    scene = (255 * (scene - scene.min()) / (scene.max() - scene.min())).astype(np.uint8)
    return [np.ascontiguousarray(scene[3 * i : 3 * i + height, 5 * i : 5 * i + width]) for i in range(count)]


def run(args: argparse.Namespace) -> int:
    from loftr_ros.loftr.matcher import Matcher, resolve_device

    if args.repeats < 1 or min(args.keyframes) < 1 or args.warmup < 0:
        raise ConfigError("--repeats and --keyframes must be >= 1, --warmup >= 0")
    device = resolve_device(args.device)
    precisions = args.precisions or (["fp32", "fp16", "bf16"] if device.type == "cuda" else ["fp32"])
    width, height = args.size
    images = _images(width, height, max(args.keyframes) + 1)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    lines = [
        f"LoFTR per frame (one {width}x{height} query against k cached keyframes) on {name}, torch "
        f"{torch.__version__}; {args.repeats} frames per row after {args.warmup} warm-up",
        "",
        "| model | precision | k | frames/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for model_name in args.models:
        model = _model(model_name)
        for precision in precisions:
            matcher = Matcher(model=model, device=device.type, max_side=0, precision=precision)
            keyframes = [matcher.extract(image) for image in images[1:]]
            for k in args.keyframes:
                times = []
                for repeat in range(args.warmup + args.repeats):
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    matcher.match(images[0], keyframes[:k])
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    if repeat >= args.warmup:
                        times.append(time.perf_counter() - start)
                ms = np.array(times) * 1000
                row = (f"| {model_name} | {precision} | {k} | {1000 / ms.mean():.1f} | {np.percentile(ms, 50):.1f} | "
                       f"{np.percentile(ms, 99):.1f} |")  # fmt: skip
                lines.append(row)
                print(row, flush=True)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n")
    return 0
