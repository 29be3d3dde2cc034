"""``loftr-ros evaluate-synthetic``: the localization core end to end on rendered synthetic sequences.

Renders one room and loop per ``--seeds`` entry, maps every ``--keyframe-every``-th frame as an RGB-D
keyframe and localizes the rest with the chosen matcher; prints the summary per sequence and over all,
and writes ``frames.csv`` and ``summary.json`` into ``--output``. Deterministic for given seeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loftr_ros.config import MATCHERS, MatcherSettings
from loftr_ros.errors import LoftrRosError
from loftr_ros.evaluation.synthetic_sequences import PRIORS, SequenceRun
from loftr_ros.tools import WEIGHTS_HELP, output_folder, parse_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SequenceRun()
    parser.add_argument("--seeds", type=int, nargs="+", default=list(defaults.seeds), help="one sequence per seed")
    parser.add_argument("--frames", type=int, default=defaults.frames, help="frames per sequence")
    parser.add_argument("--keyframe-every", type=int, default=defaults.keyframe_every, help="keyframe spacing")
    parser.add_argument("--max-queries", type=int, default=0, help="queries per sequence, evenly spread (0 = all)")
    parser.add_argument(
        "--size", type=parse_size, default=f"{defaults.width}x{defaults.height}", metavar="WxH", help="image size"
    )
    parser.add_argument("--prior", choices=PRIORS, default=defaults.prior, help="pose prior given with each query")
    parser.add_argument("--matcher", choices=MATCHERS, default="loftr")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", type=Path, default=Path("out/synthetic_eval"), help="folder for CSV and JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from loftr_ros.evaluation.report import format_summary, summarize, write_csv, write_json
    from loftr_ros.evaluation.synthetic_sequences import run_sequences
    from loftr_ros.matchers import create_matcher
    from loftr_ros.tools.evaluate import seed_everything

    width, height = args.size
    sequences = SequenceRun(
        seeds=tuple(args.seeds), frames=args.frames, keyframe_every=args.keyframe_every, max_queries=args.max_queries,
        width=width, height=height, prior=args.prior,
    )  # fmt: skip
    sequences.validate()
    if args.output.exists() and any(args.output.iterdir()) and not args.overwrite:  # before minutes of work
        raise LoftrRosError(f"{args.output} exists and is not empty: pass --overwrite to replace it")
    seed_everything(0)
    matcher = create_matcher(MatcherSettings(type=args.matcher, weights=args.weights, device=args.device))
    progress = tqdm(total=sequences.num_queries, desc="localizing", unit="frame")
    all_records = []
    for seed, records in run_sequences(matcher, sequences, on_frame=lambda *_: progress.update()):
        progress.write(f"seed {seed}:\n{format_summary(summarize(records))}")
        all_records.extend(records)
    progress.close()
    summary = summarize(all_records)
    summary["config"] = {**vars(sequences), "seeds": list(sequences.seeds), "matcher": args.matcher}
    with output_folder(args.output, args.overwrite) as partial:
        write_csv(all_records, partial / "frames.csv")
        write_json(summary, partial / "summary.json")
    print(f"all {len(sequences.seeds)} sequences ({args.matcher}, prior {args.prior}):\n{format_summary(summary)}")
    return 0
