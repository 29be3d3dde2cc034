"""The ``loftr-ros`` command: one subcommand per tool module in ``loftr_ros.tools``.

Each tool module provides ``add_arguments(parser)`` and ``run(args) -> int`` and is imported only
when its subcommand runs, so ``loftr-ros --help`` stays fast and light.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from loftr_ros.errors import LoftrRosError

# subcommand -> (module, one-line help), in the order a team meets them
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("loftr_ros.tools.demo", "the whole product on a synthetic scene: bag, node over DDS, evaluation"),
    "match": ("loftr_ros.tools.match", "match two images and write keypoints, confidences, a drawing"),
    "build-map": ("loftr_ros.tools.build_map", "a keyframe map of your own place from a rosbag or a TUM download"),
    "import-tum": ("loftr_ros.tools.import_tum", "turn a TUM RGB-D folder into a bag (and a map)"),
    "make-bag": ("loftr_ros.tools.make_bag", "write a synthetic sequence as a bag (and a map)"),
    "replay": ("loftr_ros.tools.replay", "play a bag over DDS at its recorded timing, with /clock"),
    "evaluate": ("loftr_ros.tools.evaluate", "localize a bag's images offline; metrics, CSV, JSON and plots"),
    "evaluate-synthetic": (
        "loftr_ros.tools.evaluate_synthetic", "localize rendered synthetic sequences end to end; accuracy"
    ),
    "evaluate-pairs": ("loftr_ros.tools.evaluate_pairs", "relative-pose AUC of LoFTR, SIFT, ORB on image pairs"),
    "evaluate-bins": (
        "loftr_ros.tools.evaluate_bins", "LoFTR beside SIFT per bin of viewpoint, roll, scale, overlap, time gap"
    ),
    "tum-keyframe-eval": ("loftr_ros.tools.tum_keyframe_eval", "TUM 1 Hz frames against one RGB-D keyframe"),
    "collect-textures": (
        "loftr_ros.tools.collect_textures", "gather Debian's photo wallpapers as training textures"
    ),
    "show-data": ("loftr_ros.tools.show_data", "a PNG of training pairs with their ground-truth matches"),
    "train": ("loftr_ros.tools.train", "train LoFTR on synthetic pairs with the paper's supervision"),
    "finetune": ("loftr_ros.tools.finetune", "continue training LoFTR on your own keyframe map (RGB-D, posed)"),
    "benchmark-matcher": ("loftr_ros.tools.benchmark_matcher", "pairs per second of ours against kornia"),
    "benchmark-models": (
        "loftr_ros.tools.benchmark_models", "frames per second of the shipped and published-size LoFTR, per precision"
    ),
    "benchmark-defaults": (
        "loftr_ros.tools.benchmark_defaults", "speed and accuracy per input side, keyframes tried, cascade"
    ),
    "benchmark-retrieval": ("loftr_ros.tools.benchmark_retrieval", "top-k retrieval time over a large map"),
    "benchmark-map": ("loftr_ros.tools.benchmark_map", "peak memory and latency per frame as the map grows to 5,000"),
    "benchmark-node": ("loftr_ros.tools.benchmark_node", "the node under a 30 Hz stream: rate, drops, latency"),
    "params-yaml": ("loftr_ros.tools.params_yaml", "print the node's parameter file with every default"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: only for ``--help`` and usage errors; each tool parses its own arguments."""
    parser = argparse.ArgumentParser(
        prog="loftr-ros",
        description="loftr_ros tools: the demo, matching, bags, evaluation, training and benchmarks.",
        epilog="`loftr-ros COMMAND --help` shows a command's options and their defaults.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        build_parser().parse_args(argv)  # prints help, or a usage error naming the valid commands
        return 2
    name, module_name, help_text = argv[0], *COMMANDS[argv[0]]
    parser = argparse.ArgumentParser(
        prog=f"loftr-ros {name}", description=help_text, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    module = importlib.import_module(module_name)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
    )
    try:
        return int(module.run(args) or 0)
    except LoftrRosError as error:
        logging.getLogger("loftr_ros").error("%s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
