"""Parameters come from the config dataclasses, once: names, defaults, descriptions, ranges, the YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loftr_ros.config import LocalizerNodeConfig
from loftr_ros.errors import ConfigError
from loftr_ros.node.parameters import config_with, field_comments, parameter_specs, render_parameters_yaml

ROOT = Path(__file__).resolve().parents[2]


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        flat.update(flatten(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return flat


def test_every_leaf_option_is_a_described_parameter() -> None:
    specs = {spec.name: spec for spec in parameter_specs()}
    assert {"image_transport", "matcher.device", "localizer.retrieval.top_k", "localizer.gates.min_inliers"} <= set(
        specs
    )
    assert all(spec.description for spec in specs.values()), [n for n, s in specs.items() if not s.description]
    assert specs["matcher.weights"].read_only and not specs["localizer.gates.min_inliers"].read_only
    assert specs["camera_info_tolerance_s"].range == (0.0, 1.0)


def test_shipped_parameter_file_equals_the_dataclass_defaults() -> None:
    shipped = (ROOT / "config" / "loftr_localizer.yaml").read_text()
    assert shipped == render_parameters_yaml(), "regenerate with: loftr-ros params-yaml > config/loftr_localizer.yaml"
    values = flatten(yaml.safe_load(shipped)["/**"]["ros__parameters"])
    defaults = {s.name: list(s.default) if isinstance(s.default, tuple) else s.default for s in parameter_specs()}
    assert values == defaults


def test_config_with_replaces_leaves_and_validates() -> None:
    config = config_with(
        LocalizerNodeConfig(), {("localizer", "retrieval", "top_k"): 5, ("node", "map_frame"): "world"}
    )
    assert config.localizer.retrieval.top_k == 5 and config.node.map_frame == "world"
    assert LocalizerNodeConfig().localizer.retrieval.top_k != 5  # defaults untouched
    with pytest.raises(ConfigError, match="top_k must be >= 1"):
        config_with(LocalizerNodeConfig(), {("localizer", "retrieval", "top_k"): 0})
    with pytest.raises(ConfigError, match="image_transport must be one of raw, compressed"):
        config_with(LocalizerNodeConfig(), {("node", "image_transport"): "theora"})


def test_field_comments_read_the_one_comment_per_option() -> None:
    from loftr_ros.config import MatcherSettings

    comments = field_comments(MatcherSettings)
    assert comments["device"].startswith('"auto" (CUDA when there is one)')
    assert set(comments) == {"type", "weights", "device", "precision", "max_side"}


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("localizer", "pose", "min_confidence"), float("nan"), "must be finite"),
        (("localizer", "gates", "max_rmse_px"), float("inf"), "must be finite"),
        (("localizer", "retrieval", "top_k"), 2**62, "at most 64"),
        (("localizer", "pose", "ransac_max_iterations"), 10**9, "<= 1000000"),
        (("node", "diagnostics_period_s"), float("nan"), r"must be in \[0.1, 60.0\]"),
        (("node", "max_image_pixels"), 0, "must be in"),
        (("node", "camera_to_base"), (0.0, 0.0, float("nan"), 0.0, 0.0, 0.0, 1.0), "7 finite numbers"),
    ],
)
def test_runtime_numbers_must_be_finite_and_bounded(path: tuple, value: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_with(LocalizerNodeConfig(), {path: value})
