"""Config dataclasses: presets, validation with ConfigError, dict round trip."""

from __future__ import annotations

import pytest

from loftr_ros.errors import ConfigError
from loftr_ros.loftr import LoFTR, LoFTRConfig, get_config
from loftr_ros.loftr.config import PRESETS, CoarseMatchingConfig, TransformerConfig


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid_and_round_trips(name: str) -> None:
    config = get_config(name)
    assert LoFTRConfig.from_dict(config.to_dict()) == config


def test_published_presets_differ_as_published() -> None:
    assert get_config("indoor_ds").coarse.temp_bug_fix is False
    assert get_config("indoor_ds_new").coarse.temp_bug_fix is True
    assert get_config("outdoor_ot").match_coarse.match_type == "sinkhorn"
    assert get_config("outdoor_ds").match_coarse.train_coarse_percent == 0.3
    assert get_config("indoor_ds").match_coarse.train_coarse_percent == 0.2
    # kornia's configuration of its pretrained weights
    assert get_config("outdoor").coarse.temp_bug_fix is False
    assert get_config("indoor_new").coarse.temp_bug_fix is True
    assert get_config("outdoor").match_coarse.skh_prefilter is True


def test_presets_are_fresh_copies() -> None:
    get_config("outdoor").match_coarse.thr = 0.0
    assert get_config("outdoor").match_coarse.thr == 0.2


def test_unknown_preset_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"valid: .*indoor_ds"):
        get_config("indor")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"match_coarse": CoarseMatchingConfig(match_type="hungarian")}, "match_type.*valid.*dual_softmax"),
        ({"fine": TransformerConfig(attention="flash")}, "attention.*valid.*linear"),
        ({"fine": TransformerConfig(layer_names=("self", "crosss"))}, "layer_names.*valid names"),
        ({"fine": TransformerConfig(d_model=64)}, "fine.d_model=64 must equal"),
        ({"fine": TransformerConfig(nhead=3)}, "not divisible"),
        ({"resolution": (16, 4)}, "resolution.*valid"),
    ],
)
def test_invalid_choices_raise_config_error(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LoFTRConfig().replace(**change)


def test_unknown_keys_in_a_dict_are_rejected() -> None:
    data = LoFTRConfig().to_dict()
    data["coarse"]["n_head"] = 4
    with pytest.raises(ConfigError, match="n_head"):
        LoFTRConfig.from_dict(data)


def test_smaller_models_build_through_the_same_config_path() -> None:
    small = LoFTR(get_config("tiny"))
    full = LoFTR(LoFTRConfig())
    n_small = sum(p.numel() for p in small.parameters())
    n_full = sum(p.numel() for p in full.parameters())
    assert n_small < n_full / 50
    assert len(small.loftr_coarse.layers) == 2
    # same module tree, hence the same kind of state_dict keys
    assert {k.split(".")[0] for k in small.state_dict()} == {k.split(".")[0] for k in full.state_dict()}
