"""`loftr-ros finetune MAP RUN_DIR`: continue training LoFTR on a team's own keyframe map (RGB-D, posed)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from loftr_ros.tools import parse_size
from loftr_ros.training.map_pairs import MapPairDataset, MapPairsConfig
from loftr_ros.training.train import TrainConfig, train


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", type=Path, help="keyframe map (loftr_ros SQLite store) with depth and poses")
    parser.add_argument("run_dir", type=Path, help="run folder: checkpoint, log.csv, loss.png, weights")
    parser.add_argument("--weights", default="default", help="weights to start from ('default' = shipped)")
    parser.add_argument("--steps", type=int, default=500, help="optimiser steps")
    parser.add_argument("--batch-size", type=int, default=1, help="pairs per step")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (lower than from scratch)")
    parser.add_argument(
        "--size", type=parse_size, default="320x240", metavar="WxH", help="training size (multiples of 8)"
    )
    parser.add_argument("--max-distance", type=float, default=2.0, help="pair keyframes closer than this, metres")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in run_dir")


def run(args: argparse.Namespace) -> int:
    width, height = args.size
    pairs = MapPairDataset(args.map, MapPairsConfig(width=width, height=height, max_distance_m=args.max_distance))
    config = dataclasses.replace(
        TrainConfig(), model="finetune", steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        width=width, height=height, workers=0, warmup_steps=min(50, args.steps), checkpoint_every=50,
    )  # fmt: skip
    weights = train(config, args.run_dir, resume=not args.restart, dataset=pairs, init_weights=args.weights)
    print(f"Fine-tuned on {len(pairs)} keyframe pairs of {args.map} for {args.steps} steps; weights: {weights}")
    return 0
