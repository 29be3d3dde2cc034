"""`loftr-ros train`: train LoFTR on synthetic pairs with the paper's supervision (resumable)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from loftr_ros.training.train import TRAIN_PRESETS, TrainConfig, train


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="run folder: checkpoint, log.csv, loss.png, weights")
    parser.add_argument("--preset", choices=sorted(TRAIN_PRESETS), default="cpu-small", help="starting configuration")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in run_dir")
    for f in dataclasses.fields(TrainConfig):
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=type(f.default), default=None,
            help=f"override the preset's {f.name} (cpu-small: {f.default!r})",
        )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    config = dataclasses.replace(TRAIN_PRESETS[args.preset], **{k: v for k, v in overrides.items() if v is not None})
    weights = train(config, args.run_dir, resume=not args.restart)
    print(f"Trained LoFTR '{config.model}' ({args.run_dir / 'log.csv'}); weights: {weights}")
    return 0
