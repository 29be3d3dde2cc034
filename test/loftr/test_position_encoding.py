"""Sine positional encoding: channel interleaving and both frequency variants, against kornia."""

from __future__ import annotations

import math

import pytest
import torch
from kornia.feature.loftr.utils.position_encoding import PositionEncodingSine as KorniaPE

from loftr_ros.loftr.position_encoding import PositionEncodingSine, sine_position_encoding


@pytest.mark.parametrize("temp_bug_fix", [False, True])
def test_channels_interleave_sin_cos_of_x_and_y(temp_bug_fix: bool) -> None:
    d = 32
    pe = sine_position_encoding(d, 5, 7, temp_bug_fix)[0]
    if temp_bug_fix:
        freqs = torch.tensor([math.exp(-math.log(1e4) * 2 * k / (d // 2)) for k in range(d // 4)])
    else:  # the original operator-precedence bug: every exponent step is -1
        freqs = torch.tensor([math.exp(-2 * k) for k in range(d // 4)])
    y, x = 3, 6  # positions count from 1
    assert torch.allclose(pe[0::4, y - 1, x - 1], torch.sin(x * freqs), atol=1e-6)
    assert torch.allclose(pe[1::4, y - 1, x - 1], torch.cos(x * freqs), atol=1e-6)
    assert torch.allclose(pe[2::4, y - 1, x - 1], torch.sin(y * freqs), atol=1e-6)
    assert torch.allclose(pe[3::4, y - 1, x - 1], torch.cos(y * freqs), atol=1e-6)


@pytest.mark.parametrize("temp_bug_fix", [False, True])
def test_equals_kornia_for_any_size(temp_bug_fix: bool) -> None:
    theirs = KorniaPE(256, max_shape=(16, 16), temp_bug_fix=temp_bug_fix)
    ours = PositionEncodingSine(256, temp_bug_fix=temp_bug_fix)
    for h, w in [(4, 6), (30, 40)]:  # smaller and larger than kornia's initial table
        x = torch.randn(2, 256, h, w)
        assert torch.allclose(ours(x), theirs(x), atol=1e-6)


def test_variants_differ_and_nothing_is_saved() -> None:
    assert not torch.allclose(sine_position_encoding(64, 4, 4, True), sine_position_encoding(64, 4, 4, False))
    assert len(PositionEncodingSine(64).state_dict()) == 0
