"""ResNet-FPN backbone: a 1/8-resolution coarse map and a 1/2-resolution fine map per image.

Module and parameter names follow the official implementation so checkpoints load unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from loftr_ros.loftr.config import BackboneConfig


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, padding=0, bias=False)


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (a 1x1 projection when striding)."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, cout, stride)
        self.conv2 = _conv3x3(cout, cout)
        self.bn1 = nn.BatchNorm2d(cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            None if stride == 1 else nn.Sequential(_conv1x1(cin, cout, stride=stride), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.downsample is not None:
            x = self.downsample(x)
        return self.relu(x + y)


def _upsample_to(coarser: torch.Tensor, finer: torch.Tensor) -> torch.Tensor:
    """2x bilinear (align_corners) upsampling, cropped to ``finer``'s size.

    For sides that are multiples of 8 no crop happens (the official behaviour). For other sizes the
    finer map can be one cell smaller than twice the coarser; cropping keeps the sampling positions the
    official network computes and matches kornia, which does the same.
    """
    up = F.interpolate(coarser, scale_factor=2.0, mode="bilinear", align_corners=True)
    return up[..., : finer.shape[2], : finer.shape[3]]


class ResNetFPN_8_2(nn.Module):  # noqa: N801 - the official name
    """ResNet with a feature pyramid; outputs at 1/8 (coarse) and 1/2 (fine) resolution.

    Every stride-2 stage has a centred kernel, so coarse cell (x, y) sits on pixel (8x, 8y) and fine
    cell (x, y) on pixel (2x, 2y), for any image size.
    """

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        dims = config.block_dims
        self._in = config.initial_dim
        self.conv1 = nn.Conv2d(1, config.initial_dim, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(config.initial_dim)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(dims[0], stride=1)  # 1/2
        self.layer2 = self._make_layer(dims[1], stride=2)  # 1/4
        self.layer3 = self._make_layer(dims[2], stride=2)  # 1/8

        self.layer3_outconv = _conv1x1(dims[2], dims[2])
        self.layer2_outconv = _conv1x1(dims[1], dims[2])
        self.layer2_outconv2 = nn.Sequential(
            _conv3x3(dims[2], dims[2]), nn.BatchNorm2d(dims[2]), nn.LeakyReLU(), _conv3x3(dims[2], dims[1])
        )
        self.layer1_outconv = _conv1x1(dims[0], dims[1])
        self.layer1_outconv2 = nn.Sequential(
            _conv3x3(dims[1], dims[1]), nn.BatchNorm2d(dims[1]), nn.LeakyReLU(), _conv3x3(dims[1], dims[0])
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, dim: int, stride: int) -> nn.Sequential:
        layer = nn.Sequential(BasicBlock(self._in, dim, stride=stride), BasicBlock(dim, dim, stride=1))
        self._in = dim
        return layer

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Backbone features.

        ========  ==========================  =====================================
        name      shape                       meaning
        ========  ==========================  =====================================
        x         (B, 1, H, W)                grayscale image in [0, 1]
        coarse    (B, C_c, ceil(H/8), ...)    1/8 map, C_c = block_dims[2]
        fine      (B, C_f, ceil(H/2), ...)    1/2 map, C_f = block_dims[0]
        ========  ==========================  =====================================
        """
        x0 = self.relu(self.bn1(self.conv1(x)))
        x1 = self.layer1(x0)
        x2 = self.layer2(x1)
        x3 = self.layer3(x2)

        x3_out = self.layer3_outconv(x3)
        x2_out = self.layer2_outconv(x2)
        x2_out = self.layer2_outconv2(x2_out + _upsample_to(x3_out, x2_out))
        x1_out = self.layer1_outconv(x1)
        x1_out = self.layer1_outconv2(x1_out + _upsample_to(x2_out, x1_out))
        return x3_out, x1_out
