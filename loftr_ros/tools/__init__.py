"""The ``loftr-ros`` subcommands, one module each (see :mod:`loftr_ros.cli`)."""

import argparse
from pathlib import Path

# The real TUM frames beside a checkout (``../shared/data``): the default of the tools that evaluate on them.
SHARED_TUM_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tum_fr3_long_office_household"


def parse_size(text: str) -> tuple[int, int]:
    """``320x240`` -> (320, 240); an argparse ``type`` for every tool's image-size option."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 320x240, not {text!r}") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text}")
    return width, height
