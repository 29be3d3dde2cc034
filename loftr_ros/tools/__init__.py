"""The ``loftr-ros`` subcommands, one module each (see :mod:`loftr_ros.cli`)."""

import argparse
from pathlib import Path

from loftr_ros.errors import LoftrRosError

# The real TUM frames beside a checkout, relative to the current directory (the checkout's root, where the
# README's commands run): the default of the tools that evaluate on them; always an argument.
# One spelling of the shipped weights everywhere: 'default'.
WEIGHTS_HELP = "LoFTR weights: a .safetensors or .ckpt file, or a name ('default': the weights shipped with loftr_ros)"
DEFAULT_TUM_FOLDER = Path("../shared/data/tum_fr3_long_office_household")


def tum_folder(path: Path, option: str = "--tum") -> Path | None:
    """The TUM folder a tool was given; None when the user skipped it with ''; a clear error when missing."""
    if str(path) in ("", "."):
        return None
    if not (path / "groundtruth.txt").is_file():
        raise LoftrRosError(
            f"no TUM folder at {path.resolve()} (groundtruth.txt missing): pass {option} PATH, or {option} '' to skip"
        )
    return path


def parse_size(text: str) -> tuple[int, int]:
    """``320x240`` -> (320, 240); an argparse ``type`` for every tool's image-size option."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 320x240, not {text!r}") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text}")
    return width, height
