"""Per-view photometric nuisances of real cameras: exposure, gamma, white balance, blur, noise.

They change pixel values only, never geometry, so depth and poses stay exact. All randomness comes
from a seeded ``torch.Generator``: the same seed gives bit-identical output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from loftr_ros.errors import ConfigError


@dataclass(frozen=True)
class NuisanceConfig:
    """Ranges (low, high) sampled uniformly per view; probabilities per view."""

    exposure: tuple[float, float] = (0.6, 1.5)  # global gain, as an auto-exposure change
    gamma: tuple[float, float] = (0.8, 1.25)  # tone curve exponent
    white_balance: float = 0.06  # std of the log gain of each colour channel
    blur_prob: float = 0.3  # chance of a defocus (Gaussian) blur
    blur_sigma: tuple[float, float] = (0.4, 1.5)  # Gaussian blur std, pixels
    motion_blur_prob: float = 0.15  # chance of a linear motion blur
    motion_blur_length: tuple[float, float] = (2.0, 7.0)  # motion blur length, pixels
    noise_std: tuple[float, float] = (0.0, 0.025)  # additive read noise std, in [0, 1] intensity units
    shot_noise: tuple[float, float] = (0.0, 0.015)  # signal-dependent noise: std = k * sqrt(value)

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        for name in ("exposure", "gamma", "blur_sigma", "motion_blur_length", "noise_std", "shot_noise"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                msg = f"NuisanceConfig.{name} must be 0 <= low <= high, got {(low, high)}"
                raise ConfigError(msg)
        for name in ("blur_prob", "motion_blur_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                msg = f"NuisanceConfig.{name} must be a probability in [0, 1], got {getattr(self, name)}"
                raise ConfigError(msg)
        if self.white_balance < 0.0:
            msg = f"NuisanceConfig.white_balance must be >= 0, got {self.white_balance}"
            raise ConfigError(msg)


NO_NUISANCE = NuisanceConfig(
    exposure=(1.0, 1.0),
    gamma=(1.0, 1.0),
    white_balance=0.0,
    blur_prob=0.0,
    motion_blur_prob=0.0,
    noise_std=(0.0, 0.0),
    shot_noise=(0.0, 0.0),
)


def _uniform(gen: torch.Generator, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=torch.float64))


def _convolve(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise 2D convolution of (3, H, W) with a (k, k) kernel, reflect padding."""
    k = kernel.shape[-1]
    padded = F.pad(image[None], (k // 2,) * 4, mode="replicate")
    weight = kernel.to(image.dtype).expand(3, 1, k, k)
    return F.conv2d(padded, weight, groups=3)[0]


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3.0 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()


def _motion_kernel(length: float, angle: float) -> torch.Tensor:
    radius = math.ceil(length / 2)
    size = 2 * radius + 1
    ys, xs = torch.meshgrid(torch.arange(size) - radius, torch.arange(size) - radius, indexing="ij")
    direction = torch.tensor([math.cos(angle), math.sin(angle)])
    along = xs * direction[0] + ys * direction[1]
    across = -xs * direction[1] + ys * direction[0]
    kernel = ((along.abs() <= length / 2) & (across.abs() <= 0.5)).float()
    return kernel / kernel.sum()


def apply_nuisances(colour: torch.Tensor, config: NuisanceConfig, seed: int) -> torch.Tensor:
    """Degrade a clean (3, H, W) float image in [0, 1] like a real camera would; same seed, same result."""
    gen = torch.Generator().manual_seed(int(seed))
    out = colour
    gain = _uniform(gen, config.exposure)
    balance = torch.exp(torch.randn(3, generator=gen, dtype=torch.float64) * config.white_balance).float()
    out = (out * gain * balance[:, None, None]).clamp(0.0, 1.0)
    out = out.pow(_uniform(gen, config.gamma))
    if float(torch.rand((), generator=gen)) < config.blur_prob:
        out = _convolve(out, _gaussian_kernel(_uniform(gen, config.blur_sigma)))
    if float(torch.rand((), generator=gen)) < config.motion_blur_prob:
        angle = _uniform(gen, (0.0, math.pi))
        out = _convolve(out, _motion_kernel(_uniform(gen, config.motion_blur_length), angle))
    read = _uniform(gen, config.noise_std)
    shot = _uniform(gen, config.shot_noise)
    if read > 0.0 or shot > 0.0:
        std = torch.sqrt(read**2 + shot**2 * out.clamp(min=0.0))
        out = out + std * torch.randn(out.shape, generator=gen)
    return out.clamp(0.0, 1.0)
