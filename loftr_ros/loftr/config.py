"""LoFTR configuration: one dataclass per stage, nested in :class:`LoFTRConfig`, plus named presets.

Each stage's module receives only its own slice (``config.backbone``, ``config.coarse``, ...). The
defaults are those of the official implementation (zju3dv/LoFTR ``src/config/default.py``); the presets
reproduce the published configurations and kornia's. Smaller models (fewer or narrower layers) are
built through the same dataclasses, e.g. the ``tiny`` preset.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from loftr_ros.errors import ConfigError

ATTENTION_TYPES = ("linear", "full")
LAYER_TYPES = ("self", "cross")
MATCH_TYPES = ("dual_softmax", "sinkhorn")
RESOLUTIONS = ((8, 2),)


MAX_CHANNELS = 2048  # per layer; the published model's widest is 256
MAX_LAYERS = 64  # attention layers per stage; the published model has 8


@dataclass
class BackboneConfig:
    """ResNet-FPN backbone (official ``RESNETFPN``)."""

    initial_dim: int = 128  # channels of the 7x7 stride-2 stem
    block_dims: tuple[int, int, int] = (128, 196, 256)  # channels at 1/2, 1/4, 1/8: = fine and coarse d_model


@dataclass
class TransformerConfig:
    """A LocalFeatureTransformer (official ``FINE``; the coarse one adds the positional encoding)."""

    d_model: int = 128  # token channels; must equal the backbone channels it reads
    d_ffn: int = 128  # kept for compatibility with official configs: the MLP is 2 * d_model wide there too
    nhead: int = 8  # attention heads; d_model must be divisible by it
    layer_names: tuple[str, ...] = ("self", "cross")  # interleaved self / cross attention layers
    attention: str = "linear"  # 'linear' (elu + 1 kernel, O(N)) or 'full' (softmax, O(N^2))


@dataclass
class CoarseTransformerConfig(TransformerConfig):
    """The coarse LocalFeatureTransformer and its sine positional encoding (official ``COARSE``)."""

    d_model: int = 256  # token channels; must equal backbone.block_dims[2]
    d_ffn: int = 256  # kept for compatibility with official configs (unused, as there)
    layer_names: tuple[str, ...] = ("self", "cross") * 4  # 4 self/cross pairs
    temp_bug_fix: bool = True  # False: the original positional encoding (zju3dv/LoFTR#41), as old checkpoints


@dataclass
class CoarseMatchingConfig:
    """Coarse matching and the training-time sampling of coarse matches (official ``MATCH_COARSE``)."""

    thr: float = 0.2  # confidence threshold of a coarse match (0 keeps every mutual nearest neighbour)
    border_rm: int = 2  # coarse cells ignored at each border (of the valid area for padded images)
    match_type: str = "dual_softmax"  # 'dual_softmax' or 'sinkhorn' (optimal transport with a dustbin)
    dsmax_temperature: float = 0.1  # dual-softmax temperature, applied after the 1/sqrt(C) feature scaling
    skh_iters: int = 3  # Sinkhorn iterations
    skh_init_bin_score: float = 1.0  # initial value of the learnable dustbin score ``bin_score``
    skh_prefilter: bool = False  # at inference, drop cells whose row/column maximum is the dustbin
    train_coarse_percent: float = 0.2  # training: coarse matches fed to the fine stage, share of max candidates
    train_pad_num_gt_min: int = 200  # training: at least this many ground-truth matches padded in
    sparse_spvs: bool = True  # expose the Sinkhorn matrix with dustbins as ``conf_matrix_with_bin``


@dataclass
class FinePreprocessConfig:
    """Cropping of the fine windows around coarse matches (official ``FINE_WINDOW_SIZE`` / ``_CONCAT_``)."""

    window_size: int = 5  # fine window side in 1/2-resolution cells; odd
    concat_coarse_feat: bool = True  # merge the transformed coarse feature into every window token


@dataclass
class LoFTRConfig:
    """The whole model; ``resolution`` is the (coarse, fine) stride in pixels."""

    resolution: tuple[int, int] = (8, 2)  # only (8, 2), the configuration of every published model
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    coarse: CoarseTransformerConfig = field(default_factory=CoarseTransformerConfig)
    match_coarse: CoarseMatchingConfig = field(default_factory=CoarseMatchingConfig)
    fine_preprocess: FinePreprocessConfig = field(default_factory=FinePreprocessConfig)
    fine: TransformerConfig = field(default_factory=TransformerConfig)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a value the model cannot be built with."""
        self.resolution = tuple(self.resolution)
        self.backbone.block_dims = tuple(self.backbone.block_dims)
        if self.resolution not in RESOLUTIONS:
            msg = f"resolution {self.resolution} is not supported; valid: {list(RESOLUTIONS)}"
            raise ConfigError(msg)
        if len(self.backbone.block_dims) != 3 or min(*self.backbone.block_dims, self.backbone.initial_dim) < 1:
            msg = f"backbone.block_dims must be 3 positive ints, got {self.backbone.block_dims}"
            raise ConfigError(msg)
        # far beyond any published model: a config asking for more is a mistake or an attack on memory
        if max(*self.backbone.block_dims, self.backbone.initial_dim) > MAX_CHANNELS:
            msg = f"backbone widths {self.backbone.block_dims} exceed {MAX_CHANNELS} channels"
            raise ConfigError(msg)
        for stage_name, stage in (("coarse", self.coarse), ("fine", self.fine)):
            if len(stage.layer_names) > MAX_LAYERS or stage.nhead > MAX_CHANNELS:
                msg = f"{stage_name}: {len(stage.layer_names)} layers, {stage.nhead} heads exceed {MAX_LAYERS} layers"
                raise ConfigError(msg)
        for name, stage, channels in (
            ("coarse", self.coarse, self.backbone.block_dims[2]),
            ("fine", self.fine, self.backbone.block_dims[0]),
        ):
            stage.layer_names = tuple(stage.layer_names)
            if stage.d_model != channels:
                msg = f"{name}.d_model={stage.d_model} must equal the backbone's {channels} channels there"
                raise ConfigError(msg)
            if stage.nhead < 1 or stage.d_model % stage.nhead:
                msg = f"{name}.d_model={stage.d_model} is not divisible by {name}.nhead={stage.nhead}"
                raise ConfigError(msg)
            if stage.attention not in ATTENTION_TYPES:
                msg = f"{name}.attention={stage.attention!r} is not supported; valid: {list(ATTENTION_TYPES)}"
                raise ConfigError(msg)
            bad = [n for n in stage.layer_names if n not in LAYER_TYPES]
            if bad:
                msg = f"{name}.layer_names has {bad}; valid names: {list(LAYER_TYPES)}"
                raise ConfigError(msg)
        if self.coarse.d_model % 4:
            msg = f"coarse.d_model={self.coarse.d_model} must be a multiple of 4 (sine positional encoding)"
            raise ConfigError(msg)
        mc = self.match_coarse
        if mc.match_type not in MATCH_TYPES:
            msg = f"match_coarse.match_type={mc.match_type!r} is not supported; valid: {list(MATCH_TYPES)}"
            raise ConfigError(msg)
        if mc.border_rm < 0 or mc.skh_iters < 0 or mc.dsmax_temperature <= 0:
            msg = "match_coarse: border_rm and skh_iters must be >= 0 and dsmax_temperature > 0"
            raise ConfigError(msg)
        window = self.fine_preprocess.window_size
        if window < 1 or window % 2 == 0:
            msg = f"fine_preprocess.window_size={window} must be a positive odd number"
            raise ConfigError(msg)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready nested dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoFTRConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError` (a typo must not pass)."""
        stages = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in stages:
                msg = f"unknown LoFTR config key {key!r}; valid: {sorted(stages)}"
                raise ConfigError(msg)
            if key == "resolution":
                kwargs[key] = tuple(value)
                continue
            stage_cls = _STAGE_TYPES[key]
            names = {f.name for f in dataclasses.fields(stage_cls)}
            unknown = sorted(set(value) - names)
            if unknown:
                msg = f"unknown keys {unknown} in LoFTR config section {key!r}; valid: {sorted(names)}"
                raise ConfigError(msg)
            kwargs[key] = stage_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        return cls(**kwargs)

    def replace(self, **changes: Any) -> LoFTRConfig:
        """A validated deep copy with top-level sections (or ``resolution``) replaced."""
        return dataclasses.replace(copy.deepcopy(self), **changes)


_STAGE_TYPES: dict[str, type] = {
    "backbone": BackboneConfig,
    "coarse": CoarseTransformerConfig,
    "match_coarse": CoarseMatchingConfig,
    "fine_preprocess": FinePreprocessConfig,
    "fine": TransformerConfig,
}


def _official(indoor: bool, match_type: str, temp_bug_fix: bool) -> LoFTRConfig:
    # configs/loftr/{indoor,outdoor}[/buggy_pos_enc]/loftr_{ds,ot}.py of zju3dv/LoFTR
    return LoFTRConfig(
        coarse=CoarseTransformerConfig(temp_bug_fix=temp_bug_fix),
        match_coarse=CoarseMatchingConfig(match_type=match_type, train_coarse_percent=0.2 if indoor else 0.3),
    )


def _kornia(temp_bug_fix: bool) -> LoFTRConfig:
    # kornia.feature.loftr.loftr.default_cfg, the configuration of kornia's pretrained weights
    return LoFTRConfig(
        coarse=CoarseTransformerConfig(temp_bug_fix=temp_bug_fix),
        match_coarse=CoarseMatchingConfig(skh_prefilter=True, train_coarse_percent=0.4),
    )


def _tiny() -> LoFTRConfig:
    # A narrow, shallow model for tests and CPU training; same architecture, same code path.
    return LoFTRConfig(
        backbone=BackboneConfig(initial_dim=16, block_dims=(16, 24, 32)),
        coarse=CoarseTransformerConfig(d_model=32, d_ffn=32, nhead=4, layer_names=("self", "cross")),
        fine=TransformerConfig(d_model=16, d_ffn=16, nhead=4, layer_names=("self", "cross")),
    )


# Official names: '_ds' dual-softmax, '_ot' optimal transport (Sinkhorn); without '_new' the original
# positional encoding (the 'buggy_pos_enc' configs every published checkpoint but indoor_ds_new uses).
PRESETS = {
    "default": LoFTRConfig,
    "indoor_ds": lambda: _official(True, "dual_softmax", False),
    "indoor_ot": lambda: _official(True, "sinkhorn", False),
    "outdoor_ds": lambda: _official(False, "dual_softmax", False),
    "outdoor_ot": lambda: _official(False, "sinkhorn", False),
    "indoor_ds_new": lambda: _official(True, "dual_softmax", True),
    "indoor_ot_new": lambda: _official(True, "sinkhorn", True),
    "outdoor_ds_new": lambda: _official(False, "dual_softmax", True),
    "outdoor_ot_new": lambda: _official(False, "sinkhorn", True),
    "outdoor": lambda: _kornia(False),  # kornia's names
    "indoor": lambda: _kornia(False),
    "indoor_new": lambda: _kornia(True),
    "tiny": _tiny,
}


def get_config(name: str) -> LoFTRConfig:
    """A fresh copy of the named preset; unknown names raise :class:`ConfigError` listing the valid ones."""
    if name not in PRESETS:
        msg = f"unknown LoFTR config preset {name!r}; valid: {sorted(PRESETS)}"
        raise ConfigError(msg)
    return PRESETS[name]()
