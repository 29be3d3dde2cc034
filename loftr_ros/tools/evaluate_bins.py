"""`loftr-ros evaluate-bins`: where LoFTR wins or fails against SIFT, per bin of viewpoint, roll, scale,
overlap (held-out synthetic pairs) and per time gap (real TUM pairs: reported, never tuned on)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from loftr_ros.baselines import OpenCVMatcher
from loftr_ros.config import MatcherSettings
from loftr_ros.tools import DEFAULT_TUM_FOLDER, parse_size, tum_folder
from loftr_ros.training.binned_evaluation import (
    bin_rows,
    held_out_wide_pairs,
    markdown_table,
    paired_auc_difference,
    score_pairs,
)

logger = logging.getLogger(__name__)

TUM_GAPS = (1, 2, 4, 8, 16)  # frames of the 1 Hz sequence apart, about seconds


def _weights_option(text: str) -> tuple[str, str]:
    name, _, weights = text.rpartition("=")
    return (name or weights or "LoFTR (shipped)", weights)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", type=_weights_option, nargs="+", default=[("LoFTR (shipped)", "")],
                        metavar="[NAME=]WEIGHTS", help="LoFTR weights to compare ('' = shipped)")  # fmt: skip
    parser.add_argument(
        "--max-side", type=int, default=MatcherSettings.max_side, help="LoFTR input's longest side for TUM frames"
    )
    parser.add_argument("--synthetic", type=int, default=120, help="held-out synthetic pairs (0 = skip)")
    parser.add_argument("--synthetic-size", type=parse_size, default="320x240", metavar="WxH")
    parser.add_argument("--tum", type=Path, default=DEFAULT_TUM_FOLDER, help="TUM-format folder ('' = skip)")
    parser.add_argument("--output", type=Path, default=None, help="write the table (.md) and rows (.json) here")
    parser.epilog = (
        "example: loftr-ros evaluate-bins --weights before= after=runs/x/loftr_small.safetensors --output out/bins"
    )


def run(args: argparse.Namespace) -> int:
    from loftr_ros.loftr import Matcher
    from loftr_ros.tools.evaluate_pairs import tum_pairs

    tum = tum_folder(args.tum)  # before minutes of synthetic pairs
    loftrs = {name: Matcher(weights=weights or "default", max_side=args.max_side) for name, weights in args.weights}
    methods = {**{name: m.match_pair for name, m in loftrs.items()}, "SIFT": OpenCVMatcher("sift").match_pair}
    rows, differences = [], []
    if args.synthetic:
        pairs = list(held_out_wide_pairs(args.synthetic, *args.synthetic_size))
        for pair in pairs:
            pair.attributes["synthetic"] = 0.0  # one bin holding every pair
        scores = {name: score_pairs(pairs, match) for name, match in methods.items()}
        everything = bin_rows(pairs, scores, {"synthetic": (0.0, 1.0)})
        for row in everything:
            row.label = "all"
        rows += everything + bin_rows(pairs, scores)
        first, *others = loftrs  # every further weights against the first, and each against SIFT
        differences += [paired_auc_difference((name, scores[name]), (first, scores[first])) for name in others]
        differences += [paired_auc_difference((name, scores[name]), ("SIFT", scores["SIFT"])) for name in loftrs]
    if tum is not None:
        pairs = list(tum_pairs(tum, TUM_GAPS))
        scores = {name: score_pairs(pairs, match) for name, match in methods.items()}
        rows += bin_rows(pairs, scores, {"TUM gap (s)": (*map(float, TUM_GAPS), 1e9)}, discrete=True)
    table = markdown_table(rows)
    if differences:
        table += "\n\nOn all held-out synthetic pairs, paired bootstrap over the pairs:\n\n"
        table += "\n".join(f"- {difference}" for difference in differences)
    print(table)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "bins.md").write_text(table + "\n")
        (args.output / "bins.json").write_text(json.dumps([row.__dict__ for row in rows], indent=1))
        (args.output / "differences.json").write_text(json.dumps([d.__dict__ for d in differences], indent=1))
        print(f"wrote {args.output / 'bins.md'}, bins.json and differences.json")
    return 0
