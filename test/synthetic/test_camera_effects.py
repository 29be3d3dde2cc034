"""The indoor camera's effects: vignetting, auto-exposure and JPEG change pixels as a real camera would."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.nuisance import INDOOR_CAMERA, NO_NUISANCE, NuisanceConfig, apply_nuisances


def grey(level: float = 0.5) -> torch.Tensor:
    return torch.full((3, 60, 80), level)


def test_vignetting_darkens_corners_not_the_centre() -> None:
    out = apply_nuisances(grey(), dataclasses.replace(NO_NUISANCE, vignetting=(0.4, 0.4)), seed=1)
    assert float(out[:, 30, 40].mean()) == pytest.approx(0.5, abs=0.01)
    assert float(out[:, 0, 0].mean()) == pytest.approx(0.5 * 0.6, abs=0.01)


def test_auto_exposure_brings_a_dark_view_to_its_target() -> None:
    config = dataclasses.replace(NO_NUISANCE, auto_exposure_prob=1.0, auto_exposure_target=(0.45, 0.45))
    assert float(apply_nuisances(grey(0.1), config, seed=2).mean()) == pytest.approx(0.45, abs=1e-4)


def test_jpeg_leaves_block_artefacts_on_detail() -> None:
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    config = dataclasses.replace(NO_NUISANCE, jpeg_prob=1.0, jpeg_quality=(30, 30))
    out = apply_nuisances(image, config, seed=3)
    assert 0.02 < float((out - image).abs().mean()) < 0.3  # lossy, yet the same picture


def test_indoor_camera_is_seeded_and_valid() -> None:
    INDOOR_CAMERA.validate()
    image = torch.rand(3, 48, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(apply_nuisances(image, INDOOR_CAMERA, 9), apply_nuisances(image, INDOOR_CAMERA, 9))
    assert not torch.equal(apply_nuisances(image, INDOOR_CAMERA, 9), apply_nuisances(image, INDOOR_CAMERA, 10))


def test_defaults_add_none_of_the_new_effects() -> None:
    """The first recipe's views (and every figure measured on them) are unchanged by the new effects."""
    defaults = NuisanceConfig()
    assert defaults.vignetting == (0.0, 0.0) and defaults.auto_exposure_prob == 0 and defaults.jpeg_prob == 0


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ConfigError, match="vignetting"):
        NuisanceConfig(vignetting=(0.5, 0.2)).validate()
    with pytest.raises(ConfigError, match="jpeg_quality"):
        NuisanceConfig(jpeg_quality=(0, 90)).validate()
