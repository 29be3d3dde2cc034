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
    auto_exposure_prob: float = 0.0  # chance the view's gain is set to bring its mean to a target level
    auto_exposure_target: tuple[float, float] = (0.35, 0.55)  # the mean intensity auto-exposure aims at
    vignetting: tuple[float, float] = (0.0, 0.0)  # corner darkening (share of brightness lost at the corners)
    jpeg_prob: float = 0.0  # chance the view is JPEG-compressed, as compressed image transport would
    jpeg_quality: tuple[int, int] = (40, 95)  # JPEG quality range

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        for name in ("exposure", "gamma", "blur_sigma", "motion_blur_length", "noise_std", "shot_noise"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                msg = f"NuisanceConfig.{name} must be 0 <= low <= high, got {(low, high)}"
                raise ConfigError(msg)
        for name in ("auto_exposure_target", "vignetting"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high <= 1.0:
                msg = f"NuisanceConfig.{name} must be 0 <= low <= high <= 1, got {(low, high)}"
                raise ConfigError(msg)
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            msg = f"NuisanceConfig.jpeg_quality must be 1 <= low <= high <= 100, got {self.jpeg_quality}"
            raise ConfigError(msg)
        for name in ("blur_prob", "motion_blur_prob", "auto_exposure_prob", "jpeg_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                msg = f"NuisanceConfig.{name} must be a probability in [0, 1], got {getattr(self, name)}"
                raise ConfigError(msg)
        if self.white_balance < 0.0:
            msg = f"NuisanceConfig.white_balance must be >= 0, got {self.white_balance}"
            raise ConfigError(msg)


# What a real indoor RGB camera adds (TUM-, RealSense-like): auto-exposure, vignetting, compression.
INDOOR_CAMERA = NuisanceConfig(
    exposure=(0.5, 1.8),
    gamma=(0.75, 1.3),
    white_balance=0.08,
    blur_prob=0.3,
    motion_blur_prob=0.3,
    motion_blur_length=(2.0, 9.0),
    noise_std=(0.002, 0.03),
    shot_noise=(0.0, 0.02),
    auto_exposure_prob=0.7,
    vignetting=(0.0, 0.45),
    jpeg_prob=0.5,
)

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
    if config.vignetting[1] > 0.0:  # before the sensor: the lens darkens the corners
        out = out * _vignette(out.shape[1], out.shape[2], _uniform(gen, config.vignetting))
    if config.auto_exposure_prob > 0.0 and float(torch.rand((), generator=gen)) < config.auto_exposure_prob:
        target = _uniform(gen, config.auto_exposure_target)
        out = (out * (target / out.mean().clamp(min=1e-3))).clamp(0.0, 1.0)
    read = _uniform(gen, config.noise_std)
    shot = _uniform(gen, config.shot_noise)
    if read > 0.0 or shot > 0.0:
        std = torch.sqrt(read**2 + shot**2 * out.clamp(min=0.0))
        out = out + std * torch.randn(out.shape, generator=gen)
    out = out.clamp(0.0, 1.0)
    if config.jpeg_prob > 0.0 and float(torch.rand((), generator=gen)) < config.jpeg_prob:
        low, high = config.jpeg_quality
        out = _jpeg(out, low + int(torch.randint(0, high - low + 1, (), generator=gen)))
    return out


def _vignette(height: int, width: int, strength: float) -> torch.Tensor:
    """(H, W) gain: 1 at the centre, 1 - strength at the corners, smooth (cos^4-like) in between."""
    ys = torch.linspace(-1.0, 1.0, height)[:, None]
    xs = torch.linspace(-1.0, 1.0, width)[None, :]
    radius2 = (xs**2 + ys**2) / 2.0  # 1 at the corners
    return 1.0 - strength * radius2**1.5


def _jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """(3, H, W) in [0, 1] through a JPEG encode/decode at ``quality``: blocks, ringing, chroma loss."""
    import cv2
    import numpy as np

    rgb = (image.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        return image
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1].copy()
    return torch.from_numpy(decoded).permute(2, 0, 1).float() / 255.0
