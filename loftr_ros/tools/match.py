"""``loftr-ros match IMG0 IMG1``: match two image files, write keypoints and a drawing.

Keypoints are (x, y) in the pixels of the input files, (0, 0) the centre of the top-left pixel.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np

from loftr_ros.errors import InputImageError, LoftrRosError
from loftr_ros.loftr.config import PRESETS
from loftr_ros.loftr.weights import NAMED_WEIGHTS
from loftr_ros.visualization import draw_matches

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image0", type=Path, help="first image file (any format OpenCV reads)")
    parser.add_argument("image1", type=Path, help="second image file")
    parser.add_argument(
        "--weights",
        default="default",
        help=(
            "'default' (the weights shipped with loftr_ros), a named published weight "
            f"({', '.join(sorted(NAMED_WEIGHTS))}; cached in $LOFTR_ROS_CACHE or ~/.cache/loftr_ros), a "
            "path to our .safetensors or an official/kornia .ckpt, or 'random': seeded RANDOM weights, "
            "which only exercise the pipeline and match nothing meaningful"
        ),
    )
    parser.add_argument(
        "--config",
        choices=sorted(PRESETS),
        default=None,
        help="config preset; default: the one of the named weights, else the official default "
        "(ignored for .safetensors, which carry their own)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="coarse confidence threshold; default: the config's (0.2); 0 keeps every mutual NN",
    )
    parser.add_argument("--max-side", type=int, default=640, help="longest side the network sees; 0 = no resize")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to run")
    parser.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32", help="autocast dtype")
    parser.add_argument("--seed", type=int, default=0, help="seed of --weights random")
    parser.add_argument("--output", type=Path, default=None, help="write keypoints0, keypoints1, confidence (.npz)")
    parser.add_argument("--viz", type=Path, default=None, help="write the matches drawn side by side (.png)")


def read_image(path: Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB (grayscale files give equal channels)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        msg = f"cannot read image {path} (missing, or not a format OpenCV reads)"
        raise InputImageError(msg)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def run(args: argparse.Namespace) -> int:
    from loftr_ros.loftr.matcher import Matcher
    from loftr_ros.loftr.weights import build_model

    image0, image1 = read_image(args.image0), read_image(args.image1)
    model = build_model(args.weights, args.config, seed=args.seed)
    if args.threshold is not None:
        model.config.match_coarse.thr = args.threshold  # read at every forward pass
    matcher = Matcher(model=model, device=args.device, max_side=args.max_side, precision=args.precision)
    matches = matcher.match_pair(image0, image1)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            args.output,
            keypoints0=matches.keypoints0,
            keypoints1=matches.keypoints1,
            confidence=matches.confidence,
        )
    if args.viz is not None:
        args.viz.parent.mkdir(parents=True, exist_ok=True)
        drawing = draw_matches(image0, image1, matches.keypoints0, matches.keypoints1, matches.confidence)
        if not cv2.imwrite(str(args.viz), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR)):
            msg = f"cannot write the drawing to {args.viz} (unknown extension or unwritable folder)"
            raise LoftrRosError(msg)
    written = ", ".join(str(p) for p in (args.output, args.viz) if p is not None) or "nothing (no --output/--viz)"
    logger.info("Matched %d points between %s and %s; wrote %s.", len(matches), args.image0, args.image1, written)
    return 0
