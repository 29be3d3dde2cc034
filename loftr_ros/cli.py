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


# One example per command whose module does not give its own (``parser.epilog``).
EXAMPLES = {
    "demo": "loftr-ros demo --output out/demo --overwrite   (--matcher sift: the baseline; --frames 4: a quick run)",
    "match": "loftr-ros match a.png b.png --viz out/matches.png --output out/matches.npz",
    "import-tum": "loftr-ros import-tum ../shared/data/tum_fr3_long_office_household --output out/tum.bag "
                  "--map out/tum_map.db",
    "make-bag": "loftr-ros make-bag --synthetic 3 --frames 30 --output out/synthetic.bag --map out/synthetic.db",
    "replay": "loftr-ros replay out/tum.bag --rate 0.5   (with the node running: ros2 launch loftr_ros "
              "localization.launch.py use_sim_time:=true)",
    "evaluate": "loftr-ros evaluate --bag out/tum.bag --map out/tum_map.db --output out/tum_eval",
    "evaluate-synthetic": "loftr-ros evaluate-synthetic --seeds 0 1 2 --prior odometry",
    "evaluate-pairs": "loftr-ros evaluate-pairs --weights default --tum ../shared/data/tum_fr3_long_office_household",
    "tum-keyframe-eval": "loftr-ros tum-keyframe-eval --data ../shared/data/tum_fr3_long_office_household",
    "train": "loftr-ros train out/run --preset cpu-small --data mixed --time-limit-s 3600",
    "finetune": "loftr-ros finetune out/office.db out/finetune --steps 500",
    "benchmark-matcher": "loftr-ros benchmark-matcher --sizes 320x240 640x480",
    "benchmark-retrieval": "loftr-ros benchmark-retrieval --keyframes 100000 --recall",
    "params-yaml": "loftr-ros params-yaml > config/loftr_localizer.yaml",
}  # fmt: skip


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown as the user would type them, and only where the help does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or action.required:
            return text
        default = action.default
        if isinstance(default, list) or (isinstance(default, tuple) and not _is_size(default)):
            default = " ".join(_as_typed(v) for v in default)
        else:
            default = _as_typed(default)
        return f"{text} (default: {default})".replace("%", "%%")


def _is_size(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)


def _as_typed(value: object) -> str:
    """A default as one would type it: sizes as WxH, the empty string as ''."""
    if _is_size(value):
        return f"{value[0]}x{value[1]}"  # type: ignore[index]
    return "''" if value == "" else str(value)


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
    parser = argparse.ArgumentParser(prog=f"loftr-ros {name}", description=help_text, formatter_class=HelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    module = importlib.import_module(module_name)
    module.add_arguments(parser)
    if not parser.epilog:
        parser.epilog = f"example: {EXAMPLES[name]}"
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
