"""Weights: official/kornia checkpoints by name or path, and our own safetensors + JSON config files.

Official ``.ckpt`` files (a dict whose ``state_dict`` keys start with ``matcher.``) and kornia's converted
files (the same without the prefix) load strictly into :class:`~loftr_ros.loftr.model.LoFTR`. Named
weights live in the cache directory ``$LOFTR_ROS_CACHE`` (default ``~/.cache/loftr_ros``) and are
downloaded there when an address is known. Checkpoints are always read with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from loftr_ros.errors import CheckpointError, ConfigError
from loftr_ros.loftr.config import LoFTRConfig, get_config
from loftr_ros.loftr.model import LoFTR

logger = logging.getLogger(__name__)

OFFICIAL_PAGE = "https://github.com/zju3dv/LoFTR"  # README: 'Download the pretrained weights' (Google Drive)
_KORNIA_BASE = "http://cmp.felk.cvut.cz/~mishkdmy/models/"
PACKAGE_WEIGHTS_DIR = Path(str(importlib.resources.files("loftr_ros") / "weights"))  # package data, as installed
DEFAULT_WEIGHTS_NAME = "loftr_ros_default"


@dataclass(frozen=True)
class NamedWeights:
    """A published checkpoint: file name in the cache, where to get it, and the config it was trained with."""

    filename: str
    preset: str  # name in loftr_ros.loftr.config.PRESETS
    url: str | None  # None: no direct address (Google Drive only); see OFFICIAL_PAGE
    sha256: str | None = None  # recorded hash; None: not known yet, the computed one is logged


# No SHA-256 is published for any of these; the first load logs the computed hash so it can be recorded.
NAMED_WEIGHTS: dict[str, NamedWeights] = {
    "outdoor": NamedWeights("loftr_outdoor.ckpt", "outdoor", _KORNIA_BASE + "loftr_outdoor.ckpt"),
    "indoor": NamedWeights("loftr_indoor.ckpt", "indoor", _KORNIA_BASE + "loftr_indoor.ckpt"),
    "indoor_new": NamedWeights("loftr_indoor_ds_new.ckpt", "indoor_new", _KORNIA_BASE + "loftr_indoor_ds_new.ckpt"),
    "indoor_ds": NamedWeights("indoor_ds.ckpt", "indoor_ds", None),
    "indoor_ds_new": NamedWeights("indoor_ds_new.ckpt", "indoor_ds_new", None),
    "indoor_ot": NamedWeights("indoor_ot.ckpt", "indoor_ot", None),
    "outdoor_ds": NamedWeights("outdoor_ds.ckpt", "outdoor_ds", None),
    "outdoor_ot": NamedWeights("outdoor_ot.ckpt", "outdoor_ot", None),
}


def cache_dir() -> Path:
    """Where named weights are stored: ``$LOFTR_ROS_CACHE``, else ``~/.cache/loftr_ros``."""
    env = os.environ.get("LOFTR_ROS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "loftr_ros"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, timeout: float = 30.0) -> None:
    """Download to a temporary file beside ``dest``, then rename: an interrupted download leaves no file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s to %s", url, dest)
    with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".part", delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, tmp)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
    tmp_path.replace(dest)


def resolve_named_weights(name: str, download: bool = True) -> Path:
    """Path of the named checkpoint in the cache, downloading it when missing and an address is known.

    Raises:
        CheckpointError: unknown name, no address, offline, or a hash mismatch; the message says which
            file is expected where and how to get it by hand.
    """
    if name not in NAMED_WEIGHTS:
        msg = f"unknown weights name {name!r}; valid: {sorted(NAMED_WEIGHTS)}"
        raise CheckpointError(msg)
    entry = NAMED_WEIGHTS[name]
    path = cache_dir() / entry.filename
    if not path.is_file():
        where = f"place the file by hand at {path} (or set LOFTR_ROS_CACHE to its folder)"
        if entry.url is None:
            msg = (
                f"weights {name!r} ({entry.filename}) are published only on Google Drive, linked from "
                f"{OFFICIAL_PAGE} ('Download the pretrained weights'); download it and {where}"
            )
            raise CheckpointError(msg)
        if not download:
            msg = f"weights {name!r} are not in the cache: download {entry.url} and {where}"
            raise CheckpointError(msg)
        try:
            _download(entry.url, path)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            msg = f"could not download {entry.filename} from {entry.url} ({error}); {where}"
            raise CheckpointError(msg) from None
    digest = sha256_of(path)
    if entry.sha256 is None:
        logger.info("%s has SHA-256 %s (none recorded to check against)", path, digest)
    elif digest != entry.sha256:
        msg = f"{path} has SHA-256 {digest}, expected {entry.sha256}: delete it and download it again"
        raise CheckpointError(msg)
    return path


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state_dict of an official or kornia ``.ckpt``/``.pth`` (prefix ``matcher.`` removed).

    Raises:
        CheckpointError: missing, unreadable, corrupt or truncated file, or no state_dict in it.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"checkpoint {path} does not exist"
        raise CheckpointError(msg)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors all mean the same thing here
        # PyTorch's message advises weights_only=False, i.e. running the file's code: keep only its reason
        text = str(error)
        reason = text.split("WeightsUnpickler error:")[-1].strip().split("\n")[0] if "Unpickler error" in text else text
        if "Unsupported global" in text:
            msg = (
                f"checkpoint {path} holds Python objects besides tensors ({reason}); loftr_ros loads tensors only "
                "and never runs code from a checkpoint (re-save its state_dict with torch.save to use it)"
            )
        else:
            msg = f"checkpoint {path} cannot be read (corrupt, truncated or not a PyTorch file): {reason}"
        raise CheckpointError(msg) from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        msg = f"checkpoint {path} holds no state_dict of tensors"
        raise CheckpointError(msg)
    return {k.removeprefix("matcher."): v for k, v in state.items()}


def load_state_dict_checked(model: LoFTR, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """Strict load; wrong keys or shapes raise :class:`CheckpointError` naming ``source``."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        if wrong:
            shapes = [f"{k}: {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in wrong[:3]]
            parts.append(f"shape mismatches {shapes}")
        msg = f"{source} does not fit this LoFTR config: " + "; ".join(parts)
        raise CheckpointError(msg)
    model.load_state_dict(state, strict=True)


def config_path_for(weights_path: str | Path) -> Path:
    """The JSON config beside our weights file: same stem, ``.json``."""
    return Path(weights_path).with_suffix(".json")


def save_weights(model: LoFTR, path: str | Path, dtype: torch.dtype | None = None) -> Path:
    """Write ``model`` as safetensors at ``path`` and its config as JSON beside it; returns ``path``.

    ``dtype`` (e.g. float16) stores the floating-point tensors at that precision: half the file; they
    load back into a float32 model.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    save_file(state, str(path), metadata={"format": "loftr_ros"})
    config_path_for(path).write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    return path


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], LoFTRConfig]:
    """State dict and config of a file written by :func:`save_weights`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    config_file = config_path_for(path)
    if not path.is_file():
        msg = f"weights file {path} does not exist"
        raise CheckpointError(msg)
    if not config_file.is_file():
        msg = f"weights file {path} has no config beside it (expected {config_file})"
        raise CheckpointError(msg)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        msg = f"weights file {path} cannot be read (corrupt or truncated): {error}"
        raise CheckpointError(msg) from None
    try:
        config = LoFTRConfig.from_dict(json.loads(config_file.read_text()))
    except (json.JSONDecodeError, ConfigError, TypeError, AttributeError) as error:
        msg = f"config {config_file} of {path} is invalid: {error}"
        raise CheckpointError(msg) from None
    return state, config


def default_weights_path(name: str = DEFAULT_WEIGHTS_NAME) -> Path:
    """The shipped weights ``loftr_ros/weights/<name>.safetensors``; CheckpointError until they exist."""
    path = PACKAGE_WEIGHTS_DIR / f"{name}.safetensors"
    if not path.is_file():
        msg = (
            f"no shipped weights at {path}: they have not been trained yet; pass a checkpoint path, a named "
            f"official weight ({', '.join(sorted(NAMED_WEIGHTS))}) or 'random'"
        )
        raise CheckpointError(msg)
    return path


def build_model(weights: str | Path | None, config: LoFTRConfig | str | None = None, seed: int = 0) -> LoFTR:
    """A LoFTR in eval mode with the given weights.

    Args:
        weights: a named official weight (see ``NAMED_WEIGHTS``), 'default' (shipped weights), a path to
            our ``.safetensors`` (config read beside it) or to an official/kornia ``.ckpt``/``.pth``, or
            'random'/None for seeded random weights (only for tests and benchmarks: they match nothing).
        config: config or preset name; for a named weight its preset is the default, for a ``.ckpt``
            path the default ``LoFTRConfig()``; ignored for safetensors files, which carry their own.
        seed: the seed of random weights.
    """
    if isinstance(config, str):
        config = get_config(config)
    if weights is None or str(weights) == "random":
        logger.warning("LoFTR with RANDOM weights (seed %d): matches are meaningless", seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = LoFTR(config)
        return model.eval()
    if str(weights) == "default":
        weights = default_weights_path()
    if isinstance(weights, str) and weights in NAMED_WEIGHTS:
        path = resolve_named_weights(weights)
        model = LoFTR(config if config is not None else get_config(NAMED_WEIGHTS[weights].preset))
        load_state_dict_checked(model, read_checkpoint(path), path)
        return model.eval()
    path = Path(weights)
    if not path.is_file():
        names = ["random", "default", *sorted(NAMED_WEIGHTS)]
        msg = f"weights {str(weights)!r} is neither a file nor one of {names}"
        raise CheckpointError(msg)
    if path.suffix == ".safetensors":
        state, config = load_weights(path)
        model = LoFTR(config)
    else:
        state = read_checkpoint(path)
        model = LoFTR(config)
    load_state_dict_checked(model, state, path)
    return model.eval()
