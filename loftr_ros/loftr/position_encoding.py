"""2-D sine positional encoding of the coarse tokens, in the original and the ``temp_bug_fix`` variant."""

from __future__ import annotations

import math

import torch
from torch import nn


def sine_position_encoding(d_model: int, height: int, width: int, temp_bug_fix: bool = True) -> torch.Tensor:
    """The (1, d_model, height, width) encoding: channels interleave sin x, cos x, sin y, cos y.

    Positions count from 1, as in the official code. The original frequencies have an operator
    precedence bug (zju3dv/LoFTR#41): ``-log(1e4) / d_model // 2`` floors to -1, so every frequency is
    ``exp(-k)``; published checkpoints other than ``indoor_ds_new`` were trained with it.
    """
    steps = torch.arange(0, d_model // 2, 2, dtype=torch.float32)
    if temp_bug_fix:
        div_term = torch.exp(steps * (-math.log(10000.0) / (d_model // 2)))
    else:
        div_term = torch.exp(steps * (-math.log(10000.0) / d_model // 2))
    div_term = div_term[:, None, None]
    y = torch.arange(1, height + 1, dtype=torch.float32)[None, :, None].expand(1, height, width)
    x = torch.arange(1, width + 1, dtype=torch.float32)[None, None, :].expand(1, height, width)
    pe = torch.zeros(d_model, height, width)
    pe[0::4] = torch.sin(x * div_term)
    pe[1::4] = torch.cos(x * div_term)
    pe[2::4] = torch.sin(y * div_term)
    pe[3::4] = torch.cos(y * div_term)
    return pe[None]


class PositionEncodingSine(nn.Module):
    """Adds :func:`sine_position_encoding` to a feature map; the encoding is cached per size and device.

    Nothing is stored in the state_dict (the official buffer is not persistent either).
    """

    def __init__(self, d_model: int, temp_bug_fix: bool = True) -> None:
        super().__init__()
        self.d_model = d_model
        self.temp_bug_fix = temp_bug_fix
        self._cache: dict[tuple[int, int, torch.device, torch.dtype], torch.Tensor] = {}

    def encoding(self, height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (height, width, device, dtype)
        if key not in self._cache:
            if len(self._cache) > 16:  # many sizes seen: keep memory bounded
                self._cache.clear()
            pe = sine_position_encoding(self.d_model, height, width, self.temp_bug_fix)
            self._cache[key] = pe.to(device=device, dtype=dtype)
        return self._cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W), x + encoding."""
        return x + self.encoding(x.shape[2], x.shape[3], x.device, x.dtype)
