"""`loftr-ros collect-textures`: gather Debian's photo wallpapers as training textures (never TUM)."""

from __future__ import annotations

import argparse
from pathlib import Path

from loftr_ros.synthetic.texture_library import DEBIAN_WALLPAPER_DIRS, collect_textures


def default_texture_dir() -> Path:
    """``$LOFTR_ROS_CACHE/textures`` (default ``~/.cache/loftr_ros/textures``): where training looks."""
    import os

    return Path(os.environ.get("LOFTR_ROS_CACHE", Path.home() / ".cache" / "loftr_ros")) / "textures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=default_texture_dir(), help="folder for the JPEGs")
    parser.add_argument("--source", type=Path, nargs="+", default=list(DEBIAN_WALLPAPER_DIRS),
                        help="folders searched for photos (recursively)")  # fmt: skip
    parser.add_argument("--max-side", type=int, default=1024, help="longest side of each written photo")
    parser.add_argument("--min-detail", type=float, default=2.0,
                        help="mean |Laplacian| below which a picture is too flat to use")  # fmt: skip
    parser.epilog = "example: loftr-ros collect-textures --output ~/.cache/loftr_ros/textures"


def run(args: argparse.Namespace) -> int:
    collected = collect_textures(args.output, args.source, args.max_side, args.min_detail)
    size = sum(item.output.stat().st_size for item in collected)
    print(f"{len(collected)} photos in {args.output} ({size / 1e6:.1f} MB)")
    return 0
