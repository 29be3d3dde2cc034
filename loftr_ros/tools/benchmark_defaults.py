"""`loftr-ros benchmark-defaults`: the speed/accuracy table the node's defaults are chosen from.

For every LoFTR input side x keyframes tried (``top_k``) x cascade on/off: frames per second of the core on
this machine (one frame = retrieval, matching, pose) and the share localized / within 5 cm and 2 degrees,
on rendered synthetic sequences (queries between RGB-D keyframes, 640x480 camera images) and, reported but
never tuned on, on a TUM bag made by ``loftr-ros import-tum``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from dataclasses import replace
from pathlib import Path

from loftr_ros.tools import WEIGHTS_HELP, output_folder, parse_size

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sides", type=int, nargs="+", default=[320, 480, 640], help="LoFTR input sides")
    parser.add_argument("--top-k", type=int, nargs="+", default=[1, 2, 3], help="keyframes tried per frame")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="synthetic sequences")
    parser.add_argument("--queries", type=int, default=10, help="queries per synthetic sequence")
    parser.add_argument("--camera", type=parse_size, default="640x480", metavar="WxH", help="camera image size")
    parser.add_argument("--tum-bag", type=Path, default=Path("out/tum.bag"), help="a TUM bag ('' = skip)")
    parser.add_argument("--tum-map", type=Path, default=Path("out/tum_map.db"), help="its keyframe map")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--output", type=Path, default=None, help="also write the table (Markdown) here")
    parser.epilog = (
        "example: loftr-ros import-tum ../shared/data/tum_fr3_long_office_household --output out/tum.bag "
        "--map out/tum_map.db && loftr-ros benchmark-defaults --output out/defaults.md"
    )


def _rate(records: list) -> float:
    seconds = sum(sum(r.timings.values()) for r in records)
    return len(records) / seconds if seconds > 0 else float("nan")


def _accuracy(summary: dict) -> tuple[float, float]:
    a = summary["accuracy"]
    return a["success_rate"], a["within"].get("5cm_2deg", float("nan"))


def run(args: argparse.Namespace) -> int:
    from loftr_ros.config import MatcherSettings
    from loftr_ros.evaluation.report import summarize
    from loftr_ros.evaluation.synthetic_sequences import SequenceRun, run_sequences
    from loftr_ros.localization.config import LocalizerConfig, RetrievalConfig
    from loftr_ros.matchers import create_matcher
    from loftr_ros.tools.evaluate import EvaluateOptions, evaluate

    width, height = args.camera
    run_config = SequenceRun(seeds=tuple(args.seeds), max_queries=args.queries, width=width, height=height)
    tum = args.tum_bag if str(args.tum_bag) not in ("", ".") and args.tum_bag.exists() else None
    if tum is None:
        logger.warning("no TUM bag at %s: its columns stay empty (make one: loftr-ros import-tum)", args.tum_bag)
    lines = [
        f"Core per frame on this machine, {width}x{height} camera images; synthetic: seeds {args.seeds}, "
        f"{args.queries} queries each; TUM: {tum or 'skipped'} (reported, never tuned on)",
        "",
        "| side | keyframes | cascade | synthetic fps | localized | within 5 cm, 2 deg | TUM fps | localized "
        "| within |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for side in args.sides:
        matcher = create_matcher(MatcherSettings(weights=args.weights, max_side=side))
        for k, cascade in itertools.product(args.top_k, (True, False)):
            config = replace(LocalizerConfig(), retrieval=RetrievalConfig(top_k=k), cascade=cascade)
            records = [r for _, rs in run_sequences(matcher, run_config, config) for r in rs]
            success, within = _accuracy(summarize(records))
            mode = "on" if cascade else "off"
            row = f"| {side} | {k} | {mode} | {_rate(records):.2f} | {success:.0%} | {within:.0%} |"
            if tum is not None:
                options = EvaluateOptions(bag=tum, map=args.tum_map, weights=args.weights, max_side=side, top_k=k,
                                          cascade=cascade, montage_frames=0)  # fmt: skip
                folder = (args.output.parent if args.output is not None else Path("out")) / "benchmark_defaults"
                out = folder / f"tum_{side}_{k}_{int(cascade)}"
                with output_folder(out, overwrite=True) as partial:  # this command's own scratch: replaced
                    summary = evaluate(options, partial)
                frames = summary["accuracy"]["frames"]
                p50 = {stage: v["p50"] for stage, v in summary["latency_s"].items()}
                fps = 1.0 / sum(p50.values()) if p50 else float("nan")
                tum_success, tum_within = _accuracy(summary)
                row += f" {fps:.2f} | {tum_success:.0%} | {tum_within:.0%} |"
                logger.info("TUM: %d frames", frames)
            else:
                row += " | | |"
            lines.append(row)
            print(row, flush=True)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n")
    return 0
