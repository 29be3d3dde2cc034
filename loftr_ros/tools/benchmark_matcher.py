"""``loftr-ros benchmark-matcher``: pairs per second of kornia's LoFTR and ours, measured in one run.

kornia matches one pair per call (both backbones every time); ours matches a query against k cached
keyframes in one pass. Both use the same random weights (kornia's default architecture), and every
pair's outputs are compared. Random weights and synthetic textured images: only the speed and the
equality mean something. kornia is needed for this tool only (``pip install kornia``).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.tools import parse_size

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[(320, 240), (640, 480)], help="WxH sizes")
    parser.add_argument("--keyframes", type=int, nargs="+", default=[1, 4], help="k values for ours")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls before each measurement")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to run")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 = torch's default")
    parser.add_argument(
        "--thr",
        type=float,
        default=0.0,
        help="coarse threshold of both models; 0 keeps every mutual nearest neighbour, so random weights "
        "still produce matches and the fine stage runs",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the shared random weights and images")


def _images(width: int, height: int, count: int, seed: int) -> list[np.ndarray]:
    """A textured uint8 scene and ``count`` shifted crops of it (query first)."""
    import cv2

    rng = np.random.default_rng(seed)
    scene = rng.random((height // 8 + 8, width // 8 + 8)).astype(np.float32)
    scene = cv2.resize(scene, ((width // 8 + 8) * 8, (height // 8 + 8) * 8), interpolation=cv2.INTER_CUBIC)
    scene = np.clip((scene - scene.min()) / (scene.max() - scene.min()) * 255, 0, 255).astype(np.uint8)
    crops = []
    for i in range(count):
        dy, dx = (3 * i) % 29 + 4, (5 * i) % 31 + 4
        crops.append(np.ascontiguousarray(scene[dy : dy + height, dx : dx + width]))
    return crops


def _timed_call(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _compare(ours: object, theirs: dict[str, torch.Tensor]) -> tuple[bool, str]:
    """Equal when the same matches are found, keypoints within 1e-3 px and confidences within 1e-5.

    float32 rounding differs between any two implementations; LoFTR's fine softmax amplifies it on
    random weights to ~1e-4 px (float64 agrees to 1e-12, see test/loftr/test_parity_kornia.py).
    """
    kp0 = theirs["keypoints0"].float().cpu().numpy()
    kp1 = theirs["keypoints1"].float().cpu().numpy()
    conf = theirs["confidence"].float().cpu().numpy()
    if len(ours) != len(conf):  # type: ignore[arg-type]
        return False, f"{len(ours)} vs {len(conf)} matches"  # type: ignore[arg-type]
    if len(conf) == 0:
        return True, "0 matches"
    d0 = float(np.abs(ours.keypoints0 - kp0).max())  # type: ignore[attr-defined]
    d1 = float(np.abs(ours.keypoints1 - kp1).max())  # type: ignore[attr-defined]
    dc = float(np.abs(ours.confidence - conf).max())  # type: ignore[attr-defined]
    equal = d0 <= 1e-3 and d1 <= 1e-3 and dc <= 1e-5
    return equal, f"{len(conf)} matches, max|dkp| {max(d0, d1):.1e} px, max|dconf| {dc:.1e}"


def run(args: argparse.Namespace) -> int:
    try:
        from kornia.feature import LoFTR as KorniaLoFTR
    except ImportError:
        msg = "benchmark-matcher compares against kornia: pip install kornia"
        raise ConfigError(msg) from None
    from loftr_ros.loftr.config import get_config
    from loftr_ros.loftr.matcher import Matcher, resolve_device
    from loftr_ros.loftr.model import LoFTR

    if args.repeats < 1 or min(args.keyframes) < 1:
        msg = "--repeats and --keyframes must be >= 1"
        raise ConfigError(msg)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    kornia_model = KorniaLoFTR(pretrained=None).eval().to(device)
    kornia_model.coarse_matching.thr = args.thr
    config = get_config("outdoor")  # kornia's default architecture
    config.match_coarse.thr = args.thr
    model = LoFTR(config)
    model.load_state_dict(kornia_model.state_dict(), strict=True)
    precisions = ["fp32"] + (["fp16", "bf16"] if device.type == "cuda" else [])
    matchers = {p: Matcher(model=model, device=str(device.type), max_side=0, precision=p) for p in precisions}
    k_max = max(args.keyframes)

    lines = [
        f"LoFTR matcher benchmark on {device.type} ({torch.get_num_threads()} CPU threads), torch "
        f"{torch.__version__}; random weights (seed {args.seed}) shared with kornia, coarse thr {args.thr}, "
        f"{args.repeats} timed repeats after {args.warmup} warm-up; p50/p99: latency of one call",
        f"{'size':>8}  {'method':<34} {'pairs/s':>8} {'ms/pair':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs kornia':>9}  outputs vs kornia",
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cores = os.cpu_count() or 1
    lines[0] += f"; load average {load:.1f} on {cores} cores"
    if device.type == "cpu" and load > cores and torch.get_num_threads() > 1:
        logger.warning(
            "the CPU is oversubscribed (load %.1f on %d cores): multi-threaded timings stall on thread "
            "synchronisation and say little; consider --threads 1",
            load,
            cores,
        )
    print(lines[0], flush=True)
    print(lines[1], flush=True)
    for width, height in args.sizes:
        images = _images(width, height, k_max + 1, args.seed)
        query, keyframe_images = images[0], images[1:]
        tensors = [torch.from_numpy(im).float().div(255.0)[None, None].to(device) for im in images]
        pairs = [{"image0": tensors[0], "image1": kf} for kf in tensors[1:]]
        with torch.inference_mode():
            kornia_out = [kornia_model(dict(pair)) for pair in pairs]
        calls = iter(range(10**9))

        def kornia_call(pairs: list[dict] = pairs, calls: Iterator[int] = calls) -> object:
            # one keyframe after the other, as a localizer without a feature cache would
            with torch.inference_mode():
                return kornia_model(dict(pairs[next(calls) % len(pairs)]))

        # (label, pairs per call, callable, matcher for the equality check or None)
        contenders: list[tuple[str, int, Callable[[], object], object]] = [
            ("kornia LoFTR, one pair per call", 1, kornia_call, None)
        ]
        for precision, matcher in matchers.items():
            keyframes = [matcher.extract(im) for im in keyframe_images]  # cached once: not timed
            for k in args.keyframes:
                call = functools.partial(matcher.match, query, keyframes[:k])
                contenders.append((f"ours {precision}, k={k} cached keyframes", k, call, precision == "fp32"))
        # Interleaved: every repeat times each contender once, so load changes on a shared machine hit
        # all of them alike.
        times: list[list[float]] = [[] for _ in contenders]
        for repeat in range(args.warmup + args.repeats):
            for index, (_, _, call, _) in enumerate(contenders):
                elapsed = _timed_call(call, device)
                if repeat >= args.warmup:
                    times[index].append(elapsed)
        kornia_rate = 1.0 / float(np.mean(times[0]))
        for (label, k, call, check), row_times in zip(contenders, times, strict=True):
            rate = k / float(np.mean(row_times))
            note = ""
            if check:
                checks = [_compare(r, kornia_out[i]) for i, r in enumerate(call())]  # type: ignore[arg-type]
                all_equal = all(ok for ok, _ in checks)
                note = ("equal: " if all_equal else "DIFFERENT: ") + "; ".join(text for _, text in checks[:2])
                note += " ..." if len(checks) > 2 else ""
            ratio = None if check is None else rate / kornia_rate
            _print_row(width, height, label, rate, row_times, k, ratio, note)
    return 0


def _print_row(
    width: int,
    height: int,
    label: str,
    rate: float,
    times: list[float],
    pairs: int,
    ratio: float | None,
    note: str,
) -> None:
    ms = np.array(times) * 1000.0
    ratio_text = "" if ratio is None else f"{ratio:.2f}x"
    print(
        f"{width:>4}x{height:<3}  {label:<34} {rate:8.2f} {1000.0 / rate:8.1f} {np.percentile(ms, 50):8.1f} "
        f"{np.percentile(ms, 99):8.1f} {ratio_text:>9}  {note}",
        flush=True,
    )
