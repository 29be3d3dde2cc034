"""Training LoFTR with the paper's supervision on synthetic pairs: resumable, logged, plotted.

One step: render a batch of pairs (DataLoader workers), add the coarse ground truth, run the model
with the ground-truth coarse matches padded in (as the official trainer does), add the fine ground
truth, and minimise focal + L2-with-std. Outputs in the run folder: ``checkpoint.pt`` (model,
optimiser, step; loaded with ``weights_only=True``), ``log.csv``, ``loss.png``, ``train_config.json``,
and at the end the weights as safetensors with their JSON config.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from loftr_ros.errors import CheckpointError, ConfigError
from loftr_ros.loftr.config import (
    BackboneConfig,
    CoarseMatchingConfig,
    CoarseTransformerConfig,
    LoFTRConfig,
    TransformerConfig,
    get_config,
)
from loftr_ros.loftr.model import LoFTR
from loftr_ros.loftr.weights import build_model, save_weights
from loftr_ros.synthetic.nuisance import INDOOR_CAMERA
from loftr_ros.synthetic.pairs import HomographyConfig, PairConfig
from loftr_ros.synthetic.scene import INDOOR_SCENE, SceneConfig
from loftr_ros.synthetic.wide_pairs import WidePairConfig
from loftr_ros.training.dataset import SyntheticDatasetConfig, SyntheticPairDataset
from loftr_ros.training.losses import LoFTRLoss
from loftr_ros.training.supervision import compute_supervision_coarse, compute_supervision_fine

logger = logging.getLogger("loftr_ros.training")


def small_model_config() -> LoFTRConfig:
    """LoFTR at half the published coarse width, a quarter of the fine width and half the coarse depth.

    Sized so that a few thousand steps fit in an hour of a 2-core CPU; the same code and config path as
    the published models.
    """
    return LoFTRConfig(
        backbone=BackboneConfig(initial_dim=32, block_dims=(32, 64, 128)),
        coarse=CoarseTransformerConfig(d_model=128, d_ffn=128, nhead=8, layer_names=("self", "cross") * 2),
        fine=TransformerConfig(d_model=32, d_ffn=32, nhead=4, layer_names=("self", "cross")),
        # the official padding (200 ground-truth matches of 20% of 4800 cells) scaled to 160x120 training
        match_coarse=CoarseMatchingConfig(train_coarse_percent=0.3, train_pad_num_gt_min=24),
    )


def medium_model_config() -> LoFTRConfig:
    """One and a half times ``small``'s widths at the same depth: the other candidate of the width comparison."""
    return LoFTRConfig(
        backbone=BackboneConfig(initial_dim=48, block_dims=(48, 96, 192)),
        coarse=CoarseTransformerConfig(d_model=192, d_ffn=192, nhead=8, layer_names=("self", "cross") * 2),
        fine=TransformerConfig(d_model=48, d_ffn=48, nhead=4, layer_names=("self", "cross")),
        match_coarse=CoarseMatchingConfig(train_coarse_percent=0.3, train_pad_num_gt_min=24),
    )


MODEL_CONFIGS = {"small": small_model_config, "medium": medium_model_config}


def model_config(name: str) -> LoFTRConfig:
    """A training preset's model ('small') or any of the model's own presets ('default', 'tiny', ...)."""
    return MODEL_CONFIGS[name]() if name in MODEL_CONFIGS else get_config(name)


@dataclass(frozen=True)
class TrainConfig:
    """One training run; presets below, every option overridable from the command line."""

    model: str = "small"  # model preset: 'small' (CPU), the model's ('default': published size), or 'finetune'
    steps: int = 3000  # optimiser steps
    batch_size: int = 2  # pairs per step
    lr: float = 4e-4  # AdamW peak learning rate (official: 6e-3 at batch 64, scaled down)
    weight_decay: float = 0.1  # AdamW weight decay (official value)
    warmup_steps: int = 150  # linear warm-up, then cosine decay to lr_min_ratio * lr
    lr_min_ratio: float = 0.05  # final learning rate as a fraction of the peak
    grad_clip: float = 1.0  # max gradient norm (0 = off)
    width: int = 320  # training image width (multiple of 8)
    height: int = 240  # training image height (multiple of 8)
    homography_ratio: float = 0.2  # share of homographic photo pairs
    extra_textures: str = ""  # folder of extra photographs for textures ("" = scikit-image's only)
    workers: int = 1  # DataLoader processes rendering pairs
    seed: int = 0  # data and initialisation seed
    device: str = "auto"  # 'auto', 'cpu' or 'cuda'
    precision: str = "auto"  # 'auto' (bf16 autocast on CUDA, fp32 on CPU), 'fp32', 'fp16', 'bf16'
    checkpoint_every: int = 100  # steps between resumable checkpoints
    log_every: int = 10  # steps between CSV rows
    threads: int = 0  # torch CPU threads (0 = torch's default)
    time_limit_s: float = 0.0  # stop after this many seconds of training, checkpointed and exported (0 = off)
    checkpoint_every_s: float = 0.0  # also checkpoint when this many seconds passed since the last (0 = off)
    init_weights: str = ""  # start from these weights (file or name) instead of random; '' = random
    render_device: str = "cpu"  # where DataLoader workers ray-cast the rooms: 'cpu' or 'cuda'
    data: str = "v1"  # pairs: "v1" (the first recipe), "relocalization" (wide, indoor) or "mixed" (half each)

    def validate(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError("steps, batch_size and lr must be positive")
        if self.width % 8 or self.height % 8:
            raise ConfigError(f"training size must be multiples of 8, got {self.width}x{self.height}")
        if self.device not in ("auto", "cpu", "cuda") or self.precision not in (
            "auto",
            "fp32",
            "fp16",
            "bf16",
        ):
            raise ConfigError("device must be auto/cpu/cuda and precision auto/fp32/fp16/bf16")
        if self.time_limit_s < 0 or self.checkpoint_every_s < 0:
            raise ConfigError("time_limit_s and checkpoint_every_s must be >= 0")
        if self.render_device not in ("cpu", "cuda"):
            raise ConfigError(f"render_device must be 'cpu' or 'cuda', got {self.render_device!r}")
        if self.data not in ("v1", "relocalization", "mixed"):
            raise ConfigError(f"data must be 'v1', 'relocalization' or 'mixed', got {self.data!r}")
        if self.model != "finetune":  # fine-tuning takes the model of its starting weights
            model_config(self.model)  # raises for an unknown preset


TRAIN_PRESETS: dict[str, TrainConfig] = {
    "cpu-small": TrainConfig(width=160, height=120),
    "gpu-full": TrainConfig(
        model="default",
        steps=6000,
        batch_size=8,
        lr=2e-3,
        width=640,
        height=480,
        workers=8,
        warmup_steps=300,
        checkpoint_every=500,
    ),
    # One H200 for minutes (scripts/gpu_train.sh): the shipped width from the shipped weights, the shipped
    # weights' data (mixed) rendered on the GPU by 15 spawned workers, a large batch, bf16, a checkpoint a minute.
    "gpu-burst": TrainConfig(
        model="small",
        init_weights="default",
        data="mixed",
        steps=20_000,
        batch_size=48,
        lr=1.5e-3,
        warmup_steps=100,
        width=320,
        height=240,
        workers=15,
        render_device="cuda",
        time_limit_s=480.0,
        checkpoint_every=1_000_000,
        checkpoint_every_s=60.0,
        log_every=20,
    ),
    "smoke": TrainConfig(
        model="tiny", steps=3, batch_size=1, workers=0, warmup_steps=1, checkpoint_every=2, log_every=1
    ),
}


def relocalization_data(
    width: int, height: int, extra_textures: str | None, length: int = 10_000, seed: int = 0,
    homography_ratio: float = 0.15,
) -> SyntheticDatasetConfig:
    """Relocalization's range: wide orbits, roll, scale, low overlap in furnished, lit indoor rooms,
    plus homographic photo pairs with strong rotation and zoom; indoor-camera nuisances throughout."""
    size = {"width": width, "height": height}
    return SyntheticDatasetConfig(
        length=length,
        seed=seed,
        homography_ratio=homography_ratio,
        pair=WidePairConfig(**size),
        scene=dataclasses.replace(INDOOR_SCENE, extra_texture_dir=extra_textures),
        homography=HomographyConfig(
            **size, rotation=math.radians(35), scale=(0.5, 2.0), perspective=0.15, nuisance=INDOOR_CAMERA,
            extra_texture_dir=extra_textures,
        ),
    )  # fmt: skip


def dataset_config(config: TrainConfig) -> SyntheticDatasetConfig:
    if config.data == "mixed":  # relocalization's range, half of it short baselines (the first recipe's pairs)
        wide = dataset_config(dataclasses.replace(config, data="relocalization"))
        short = dataset_config(dataclasses.replace(config, data="v1", seed=config.seed + 1))
        return dataclasses.replace(wide, mix_with=short, mix_ratio=0.5)
    if config.data == "relocalization":
        data = relocalization_data(
            config.width, config.height, config.extra_textures or None, config.steps * config.batch_size,
            config.seed, config.homography_ratio,
        )  # fmt: skip
        return dataclasses.replace(data, render_device=config.render_device)
    size = {"width": config.width, "height": config.height}
    return SyntheticDatasetConfig(
        length=config.steps * config.batch_size,
        seed=config.seed,
        homography_ratio=config.homography_ratio,
        pair=PairConfig(**size),
        homography=HomographyConfig(**size, extra_texture_dir=config.extra_textures or None),
        scene=SceneConfig(extra_texture_dir=config.extra_textures or None),
    )


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    batch: dict[str, Any] = {}
    for key, value in items[0].items():
        values = [item[key] for item in items]
        batch[key] = torch.stack(values) if isinstance(value, torch.Tensor) else values
    return batch


def _learning_rate(config: TrainConfig, step: int, elapsed_s: float = 0.0) -> float:
    """Linear warm-up, then cosine decay over the steps, or over the time limit if that comes first."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    if config.time_limit_s > 0:
        progress = max(progress, elapsed_s / config.time_limit_s)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return config.lr * (config.lr_min_ratio + (1 - config.lr_min_ratio) * cosine)


def _autocast(config: TrainConfig, device: torch.device) -> tuple[bool, torch.dtype]:
    if device.type != "cuda" or config.precision == "fp32":
        return False, torch.float32
    if config.precision == "fp16":
        return True, torch.float16
    return True, torch.bfloat16


def plot_losses(csv_path: Path, png_path: Path) -> None:
    """loss, coarse and fine terms against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("loss", "loss_c", "loss_f"):
        ax.plot(steps, [float(r[key]) for r in rows], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"LoFTR training: {csv_path.parent.name}")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


class _Progress:
    """tqdm when installed (not on every GPU machine), else a bare iterator."""

    def __init__(self, iterable: Any) -> None:
        self.iterable = iterable

    def __iter__(self) -> Any:
        return iter(self.iterable)

    def set_postfix(self, **_: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(loader: DataLoader) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _Progress(loader)
    return tqdm(loader, total=len(loader), desc="train", unit="step", dynamic_ncols=True)


def _save_checkpoint(
    path: Path, model: LoFTR, optimizer: torch.optim.Optimizer, step: int, elapsed_s: float
) -> None:
    tmp = path.with_suffix(".tmp")
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "elapsed_s": elapsed_s}
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a killed run leaves the previous checkpoint intact


def _load_checkpoint(path: Path, model: LoFTR, optimizer: torch.optim.Optimizer) -> tuple[int, float]:
    """(step, seconds trained) of a run's checkpoint, loaded into ``model`` and ``optimizer``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        return int(state["step"]), float(state.get("elapsed_s", 0.0))
    except Exception as error:
        msg = f"cannot resume from {path}: {error}. Delete it to start over."
        raise CheckpointError(msg) from None


# options that change how a run is executed, not what it learns: a resumed run may change them
RUN_CONTROL_FIELDS = frozenset(
    {"workers", "device", "checkpoint_every", "checkpoint_every_s", "log_every", "threads", "time_limit_s",
     "render_device"}
)


def _run_defining(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in RUN_CONTROL_FIELDS}


def train(
    config: TrainConfig,
    run_dir: Path,
    resume: bool = True,
    dataset: Dataset | None = None,
    init_weights: str | Path | None = None,
) -> Path:
    """Train (or resume) a run in ``run_dir``; returns the exported safetensors weights.

    Args:
        dataset: items in the official LoFTR dict layout; default: synthetic pairs of ``config``.
        init_weights: start from these weights (their own config) instead of ``config.model`` at random:
            fine-tuning.
    """
    config.validate()
    run_dir.mkdir(parents=True, exist_ok=True)
    config_file = run_dir / "train_config.json"
    if resume and config_file.exists():
        saved = json.loads(config_file.read_text())
        saved = {**dataclasses.asdict(TrainConfig()), **saved}  # options added since the run began: defaults
        if _run_defining(saved) != _run_defining(dataclasses.asdict(config)):
            msg = f"{run_dir} holds a run with another configuration ({config_file}); use another folder"
            raise ConfigError(msg)
    config_file.write_text(json.dumps(dataclasses.asdict(config), indent=2))
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    device = torch.device(
        "cuda" if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()) else "cpu"
    )
    use_autocast, autocast_dtype = _autocast(config, device)
    init_weights = init_weights if init_weights is not None else (config.init_weights or None)
    if init_weights is not None:
        model = build_model(init_weights).to(device).train()
        loftr_config = model.config
    else:
        loftr_config = model_config(config.model)
        model = LoFTR(loftr_config).to(device).train()
    loss_fn = LoFTRLoss({"match_type": loftr_config.match_coarse.match_type})
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=use_autocast and autocast_dtype == torch.float16)

    checkpoint = run_dir / "checkpoint.pt"
    start, trained_s = _load_checkpoint(checkpoint, model, optimizer) if resume and checkpoint.exists() else (0, 0.0)
    if start:
        logger.info("resuming %s at step %d", run_dir, start)
    logger.info("training %s: %s on %s, %.2fM parameters", run_dir, config, device,
                sum(p.numel() for p in model.parameters()) / 1e6)  # fmt: skip

    dataset = dataset if dataset is not None else SyntheticPairDataset(dataset_config(config))
    indices = [i % len(dataset) for i in range(start * config.batch_size, config.steps * config.batch_size)]
    loader = DataLoader(
        torch.utils.data.Subset(dataset, indices), batch_size=config.batch_size, shuffle=False,
        num_workers=config.workers, collate_fn=_collate, persistent_workers=False,
        # CUDA cannot be used in forked workers, so rendering on the GPU needs spawned ones: spawned everywhere,
        # so that the CPU runs (and their tests) take the GPU run's path
        multiprocessing_context="spawn" if config.workers else None,
    )  # fmt: skip
    log_path = run_dir / "log.csv"
    new_log = not log_path.exists() or start == 0
    log_file = log_path.open("w" if new_log else "a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(["step", "loss", "loss_c", "loss_f", "lr", "seconds_per_step", "num_gt_matches"])

    step, window, started = start, [], time.perf_counter()
    run_started = last_checkpoint = started
    progress = _progress_bar(loader)
    for batch in progress:
        data = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(config, step, trained_s + time.perf_counter() - run_started)
        compute_supervision_coarse(data)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=use_autocast):
            model(data)
            compute_supervision_fine(data)
            loss = loss_fn(data)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if config.grad_clip > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        step += 1
        scalars = {k: float(v) for k, v in data["loss_scalars"].items()}
        window.append(scalars)
        progress.set_postfix(loss=f"{scalars['loss']:.3f}", lr=f"{optimizer.param_groups[0]['lr']:.1e}")
        if step % config.log_every == 0 or step == config.steps:
            mean = {k: sum(w[k] for w in window) / len(window) for k in window[0]}
            elapsed = (time.perf_counter() - started) / len(window)
            losses = [f"{mean[k]:.5f}" for k in ("loss", "loss_c", "loss_f")]
            lr = f"{optimizer.param_groups[0]['lr']:.3e}"
            writer.writerow([step, *losses, lr, f"{elapsed:.3f}", int(data["spv_b_ids"].numel())])
            log_file.flush()
            window, started = [], time.perf_counter()
        now = time.perf_counter()
        out_of_time = config.time_limit_s > 0 and trained_s + now - run_started >= config.time_limit_s
        checkpoint_due = config.checkpoint_every_s > 0 and now - last_checkpoint >= config.checkpoint_every_s
        if step % config.checkpoint_every == 0 or step == config.steps or out_of_time or checkpoint_due:
            _save_checkpoint(checkpoint, model, optimizer, step, trained_s + now - run_started)
            plot_losses(log_path, run_dir / "loss.png")
            last_checkpoint = time.perf_counter()
        if out_of_time:
            logger.info("time limit of %.0f s reached at step %d", config.time_limit_s, step)
            break
    progress.close()
    log_file.close()
    weights = save_weights(model.eval(), run_dir / f"loftr_{config.model}.safetensors", dtype=torch.float16)
    plot_losses(log_path, run_dir / "loss.png")
    logger.info("trained %d steps; weights in %s", step, weights)
    return weights


__all__ = ["MODEL_CONFIGS", "TRAIN_PRESETS", "TrainConfig", "model_config", "train"]
