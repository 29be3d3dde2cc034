"""The ``loftr-ros`` subcommands, one module each (see :mod:`loftr_ros.cli`)."""

import argparse
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def output_folder(path: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary folder beside ``path`` to write into, moved into place when the body succeeds: no stale
    files from an earlier run beside new ones, nothing left behind by a failure. A folder that is not empty
    is refused unless ``overwrite``."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
        raise LoftrRosError(f"{path} exists and is not empty: pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    os.replace(partial, path)
