"""LoFTR, our PyTorch implementation: the network, its configs and weights, and the matching API.

``Matcher`` is the entry point for localization; ``LoFTR`` the nn.Module (state_dict-compatible with
the official implementation and kornia) for training and research.
"""

from loftr_ros.loftr.config import (
    BackboneConfig,
    CoarseMatchingConfig,
    CoarseTransformerConfig,
    FinePreprocessConfig,
    LoFTRConfig,
    TransformerConfig,
    get_config,
)
from loftr_ros.loftr.matcher import KeyframeFeatures, Matcher, PairMatches
from loftr_ros.loftr.model import LoFTR
from loftr_ros.loftr.weights import (
    NAMED_WEIGHTS,
    build_model,
    cache_dir,
    default_weights_path,
    load_weights,
    read_checkpoint,
    resolve_named_weights,
    save_weights,
)

__all__ = [
    "NAMED_WEIGHTS",
    "BackboneConfig",
    "CoarseMatchingConfig",
    "CoarseTransformerConfig",
    "FinePreprocessConfig",
    "KeyframeFeatures",
    "LoFTR",
    "LoFTRConfig",
    "Matcher",
    "PairMatches",
    "TransformerConfig",
    "build_model",
    "cache_dir",
    "default_weights_path",
    "get_config",
    "load_weights",
    "read_checkpoint",
    "resolve_named_weights",
    "save_weights",
]
