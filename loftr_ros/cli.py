"""The ``loftr-ros`` command: one subcommand per tool module in ``loftr_ros.tools``.

Each tool module provides ``add_arguments(parser)`` and ``run(args) -> int`` and is imported only
when its subcommand runs, so ``loftr-ros --help`` stays fast and light.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "match": ("loftr_ros.tools.match", "match two images and write keypoints, confidences, a drawing"),
    "benchmark-matcher": ("loftr_ros.tools.benchmark_matcher", "pairs per second of ours against kornia"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loftr-ros", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        sub.set_defaults(module_name=module_name)
        # Arguments are added lazily below, once we know which subcommand runs.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known, _ = parser.parse_known_args(argv) if argv and argv[0] in COMMANDS else (None, None)
    if known is None:
        parser.parse_args(argv)  # prints help or a usage error
        return 2
    module = importlib.import_module(known.module_name)
    sub = argparse.ArgumentParser(
        prog=f"loftr-ros {known.command}",
        description=COMMANDS[known.command][1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    logging.basicConfig(
        level=logging.DEBUG if args.verbose or known.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
    )
    from loftr_ros.errors import LoftrRosError

    try:
        return int(module.run(args) or 0)
    except LoftrRosError as error:
        logging.getLogger("loftr_ros").error("%s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
