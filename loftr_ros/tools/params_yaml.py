"""Print the node's parameter file with every default: `loftr-ros params-yaml > config/loftr_localizer.yaml`."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from loftr_ros.node.parameters import render_parameters_yaml

    sys.stdout.write(render_parameters_yaml())
    return 0
