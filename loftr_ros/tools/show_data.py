"""`loftr-ros show-data`: a PNG grid of training pairs with their ground-truth matches, beside real frames.

What the network learns from should look like what it will see: each row is a relocalization-range pair
(or a homographic photo pair) of the training distribution with a sample of its exact correspondences
drawn; the last row shows real frames (TUM, by default the ones beside the checkout) for comparison. The
real frames are only drawn, never trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from loftr_ros.errors import LoftrRosError
from loftr_ros.tools import DEFAULT_TUM_FOLDER, parse_size
from loftr_ros.tools.collect_textures import default_texture_dir


def ground_truth_matches(item: dict, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``count`` exact correspondences of a training item (depth and pose, or its homography)."""
    from loftr_ros.synthetic.geometry import warp_points_depth, warp_points_homography

    h, w = item["image0"].shape[1:]
    ys, xs = torch.meshgrid(torch.arange(4, h, 8), torch.arange(4, w, 8), indexing="ij")
    points = torch.stack([xs, ys], -1).reshape(1, -1, 2).float()
    if bool(item["is_homography"]):
        valid, warped = warp_points_homography(points, item["H_0to1"][None], (h, w))
    else:
        valid, warped = warp_points_depth(
            points, item["depth0"][None], item["depth1"][None], item["T_0to1"][None], item["K0"][None],
            item["K1"][None],
        )  # fmt: skip
    chosen = torch.nonzero(valid[0])[:, 0].numpy()
    chosen = rng.choice(chosen, size=min(count, len(chosen)), replace=False) if len(chosen) else chosen
    return points[0, chosen].numpy(), warped[0, chosen].numpy()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=Path("out/training_data.png"), help="PNG to write")
    parser.add_argument("--pairs", type=int, default=8, help="training pairs drawn")
    parser.add_argument("--size", type=parse_size, default="320x240", metavar="WxH", help="training size")
    parser.add_argument("--textures", type=Path, default=default_texture_dir(), help="extra texture photos")
    parser.add_argument("--real", type=Path, default=DEFAULT_TUM_FOLDER / "sequence_1hz",
                        help="a folder of real frames drawn in the last row ('' = none)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=3, help="which training items")
    parser.epilog = "example: loftr-ros show-data --output out/training_data.png"


def run(args: argparse.Namespace) -> int:
    from loftr_ros.training.dataset import SyntheticPairDataset
    from loftr_ros.training.train import relocalization_data
    from loftr_ros.visualization import draw_matches

    width, height = args.size
    textures = str(args.textures) if args.textures.is_dir() else None
    dataset = SyntheticPairDataset(relocalization_data(width, height, textures, length=10_000, seed=args.seed))
    rng = np.random.default_rng(0)
    rows = []
    for index in range(args.pairs):
        item = dataset[index * 37]
        kp0, kp1 = ground_truth_matches(item, 40, rng)
        images = [(item[k][0].numpy() * 255).astype(np.uint8) for k in ("image0", "image1")]
        drawn = draw_matches(images[0], images[1], kp0, kp1, np.ones(len(kp0)))
        label = "homography" if bool(item["is_homography"]) else f"overlap {float(item['overlap']):.2f}"
        cv2.putText(drawn, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
        rows.append(drawn)
    real_dir = args.real if str(args.real) not in ("", ".") else None
    if real_dir is not None and not real_dir.is_dir():
        raise LoftrRosError(f"no folder of real frames at {real_dir.resolve()}: pass --real PATH, or --real '' to skip")
    if real_dir is not None:
        frames = sorted(real_dir.glob("*.png"))[:: max(1, len(list(real_dir.glob("*.png"))) // 2)][:2]
        real = [cv2.resize(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), (width, height), interpolation=cv2.INTER_AREA)
                for f in frames]  # fmt: skip
        if len(real) == 2:
            row = cv2.cvtColor(np.concatenate(real, axis=1), cv2.COLOR_GRAY2RGB)
            cv2.putText(row, "real (TUM), for comparison", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1,
                        cv2.LINE_AA)  # fmt: skip
            rows.append(row)
    grid = np.concatenate(rows, axis=0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.output}: {args.pairs} training pairs with ground-truth matches"
          f"{' and real frames' if len(rows) > args.pairs else ''}")  # fmt: skip
    return 0
