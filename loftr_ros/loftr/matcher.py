"""High-level matching API for localization: numpy images in, keypoints in their own pixels out.

A keyframe's backbone features are computed once (:meth:`Matcher.extract`) and reused; a query is matched
against k keyframes in one forward pass (:meth:`Matcher.match`), which equals k separate pair calls.

Pixel convention everywhere: (x, y), x right, y down, (0, 0) the centre of the top-left pixel, in the
pixels of the image as passed in (the network works on a resized copy; the mapping is undone here).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from loftr_ros.errors import ConfigError, InputImageError
from loftr_ros.loftr.config import LoFTRConfig
from loftr_ros.loftr.model import LoFTR
from loftr_ros.loftr.weights import build_model

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
PAD_MULTIPLE = 8  # images are zero-padded (and masked) to multiples of the coarse stride
# Where the network's coordinate x = 0 lies, in our pixel-centre convention. The backbone's centred
# stride-2 kernels put coarse cell (x, y) on pixel (8x, 8y): offset 0. kornia's docstring reads the
# published weights' frame as pixel centres at +0.5 (from their training supervision); if our trained
# weights show that, set 0.5 here: keypoints then shift by -0.5 * input/network scale.
NETWORK_PIXEL_OFFSET = 0.0


@dataclass
class PairMatches:
    """Matches between two images, in the pixels of the images as given."""

    keypoints0: np.ndarray  # (N, 2) float32, x y in image 0 (the query in Matcher.match)
    keypoints1: np.ndarray  # (N, 2) float32, x y in image 1 (the keyframe in Matcher.match)
    confidence: np.ndarray  # (N,) float32, coarse matching confidence in [0, 1]

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    @classmethod
    def empty(cls) -> PairMatches:
        return cls(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, np.float32))


@dataclass
class KeyframeFeatures:
    """Backbone maps of one image (before positional encoding and transformer), reusable for any query.

    Memory: float32, default config, network size h x w (after resizing and padding): coarse
    256 * h*w/64 * 4 bytes plus fine 128 * h*w/4 * 4 bytes = 144 * h * w bytes, about 44 MB at 640 x 480,
    11 MB at 320 x 240 (the 1/2-resolution fine map is 89% of it). ``nbytes`` gives the exact figure.
    """

    coarse: torch.Tensor  # (1, Cc, h/8, w/8)
    fine: torch.Tensor  # (1, Cf, h/2, w/2)
    mask: torch.Tensor | None  # (1, h, w) bool, False at padding; None when nothing was padded
    image_size: tuple[int, int]  # (H, W) of the image as given
    network_size: tuple[int, int]  # (h, w) of the resized image, before padding
    blank: bool = False  # empty or constant image: never matches, the tensors are placeholders

    def to(self, device: torch.device | str) -> KeyframeFeatures:
        """A copy on ``device`` (e.g. keep the map on the CPU, move retrieved keyframes to the GPU)."""
        mask = None if self.mask is None else self.mask.to(device)
        return replace(self, coarse=self.coarse.to(device), fine=self.fine.to(device), mask=mask)

    def half(self) -> KeyframeFeatures:
        """The same maps stored in float16: half the memory of a cached keyframe; matching casts them back."""
        return replace(self, coarse=self.coarse.half(), fine=self.fine.half())

    @property
    def nbytes(self) -> int:
        """Memory held by the tensors, bytes."""
        tensors = [self.coarse, self.fine] + ([] if self.mask is None else [self.mask])
        return sum(t.numel() * t.element_size() for t in tensors)

    @property
    def _group_key(self) -> tuple[int, ...]:
        return (*self.coarse.shape, *self.fine.shape)


def resolve_device(device: str) -> torch.device:
    """'auto' (CUDA when available), 'cpu' or 'cuda'; anything else raises ConfigError."""
    if device not in DEVICES:
        msg = f"device {device!r} is not supported; valid: {list(DEVICES)}"
        raise ConfigError(msg)
    if device == "cuda" and not torch.cuda.is_available():
        msg = "device 'cuda' was asked for but CUDA is not available; use 'auto' or 'cpu'"
        raise ConfigError(msg)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def to_gray_float(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1] from a (H, W) / (H, W, 1) / (H, W, 3) RGB image, uint8 or float in [0, 1].

    Raises:
        InputImageError: wrong type, shape or dtype, non-finite pixels, float values outside [0, 1].
    """
    if not isinstance(image, np.ndarray):
        msg = f"an image must be a numpy array, got {type(image).__name__}"
        raise InputImageError(msg)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim != 2 and not (image.ndim == 3 and image.shape[2] == 3):
        msg = f"an image must be (H, W) grayscale or (H, W, 3) RGB, got shape {image.shape}"
        raise InputImageError(msg)
    if image.dtype == np.uint8:
        gray = image.astype(np.float32) / 255.0
    elif np.issubdtype(image.dtype, np.floating):
        gray = image.astype(np.float32)
        if not np.isfinite(gray).all():
            bad = int(np.count_nonzero(~np.isfinite(gray)))
            msg = f"the image has {bad} non-finite (NaN or inf) pixel values; fix or mask them before matching"
            raise InputImageError(msg)
        if gray.size and (gray.min() < 0.0 or gray.max() > 1.0):
            msg = f"a float image must be in [0, 1], got values in [{gray.min():g}, {gray.max():g}]"
            raise InputImageError(msg)
    else:
        msg = f"image dtype {image.dtype} is not supported; use uint8, or float in [0, 1]"
        raise InputImageError(msg)
    if gray.ndim == 3:  # ITU-R 601 luma, as OpenCV's and kornia's RGB -> gray
        gray = gray @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.ascontiguousarray(gray, dtype=np.float32)


def network_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(h, w) the network sees: the longest side scaled to ``max_side`` (0: unchanged), aspect kept."""
    if max_side <= 0 or max(height, width) == max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def to_input_pixels(points: np.ndarray, image_size: tuple[int, int], net_size: tuple[int, int]) -> np.ndarray:
    """Map (N, 2) pixel-centre coordinates of the resized image to the original image (inverse resize)."""
    sx = image_size[1] / net_size[1]
    sy = image_size[0] / net_size[0]
    out = np.empty_like(points, dtype=np.float32)
    out[:, 0] = (points[:, 0] - NETWORK_PIXEL_OFFSET + 0.5) * sx - 0.5
    out[:, 1] = (points[:, 1] - NETWORK_PIXEL_OFFSET + 0.5) * sy - 0.5
    return out


class Matcher:
    """LoFTR for localization: extract keyframe features once, match queries against many keyframes.

    Args:
        config: config or preset name; ignored when the weights carry their own (safetensors, named).
        weights: see :func:`loftr_ros.loftr.weights.build_model` ('default', a name, a path, 'random').
        device: 'auto' | 'cpu' | 'cuda'.
        max_side: the longest image side the network sees (images are resized to it); 0 = no resize.
        precision: 'fp32', or autocast 'fp16' / 'bf16' (fp16 needs CUDA; bf16 also runs on CPU).
        model: an already built LoFTR to use instead of ``config``/``weights`` (moved to ``device``).
    """

    def __init__(
        self,
        config: LoFTRConfig | str | None = None,
        weights: str | Path | None = "default",
        device: str = "auto",
        max_side: int = 640,
        precision: str = "fp32",
        model: LoFTR | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            msg = f"precision {precision!r} is not supported; valid: {list(PRECISIONS)}"
            raise ConfigError(msg)
        if max_side < 0:
            msg = f"max_side must be >= 0 (0 = no resize), got {max_side}"
            raise ConfigError(msg)
        self.device = resolve_device(device)
        if precision == "fp16" and self.device.type != "cuda":
            msg = "precision 'fp16' needs CUDA; on the CPU use 'fp32' or 'bf16'"
            raise ConfigError(msg)
        self.max_side = max_side
        self.precision = precision
        self.model = (model if model is not None else build_model(weights, config)).eval().to(self.device)
        logger.info("LoFTR matcher on %s, %s, max_side %d", self.device, precision, max_side)
        logger.debug("LoFTR config: %s", self.model.config)

    @functools.cached_property
    def fingerprint(self) -> str:
        """What this matcher's outputs depend on (the weights and the input scaling), as 16 hex digits:
        descriptors and features computed under another fingerprint are not comparable."""
        digest = hashlib.sha256(f"max_side={self.max_side}".encode())
        for name, tensor in sorted(self.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        dtype = PRECISIONS[self.precision]
        with torch.inference_mode():
            if dtype is None:
                yield
            else:
                with torch.autocast(device_type=self.device.type, dtype=dtype):
                    yield

    def _prepare(self, image: np.ndarray) -> tuple[torch.Tensor | None, torch.Tensor | None, tuple, tuple]:
        """Network input (1, 1, h8, w8) (None if blank), mask (1, h8, w8) or None, input and resized sizes."""
        gray = to_gray_float(image)
        size = (gray.shape[0], gray.shape[1])
        if gray.size == 0 or float(gray.max()) == float(gray.min()):
            return None, None, size, size
        net = network_size(size[0], size[1], self.max_side)
        if net != size:
            interpolation = cv2.INTER_AREA if net[0] < size[0] else cv2.INTER_LINEAR
            gray = cv2.resize(gray, (net[1], net[0]), interpolation=interpolation)
        padded_h = -(-net[0] // PAD_MULTIPLE) * PAD_MULTIPLE
        padded_w = -(-net[1] // PAD_MULTIPLE) * PAD_MULTIPLE
        tensor = torch.zeros(1, 1, padded_h, padded_w)
        tensor[0, 0, : net[0], : net[1]] = torch.from_numpy(gray)
        mask = None
        if (padded_h, padded_w) != net:
            mask = torch.zeros(1, padded_h, padded_w, dtype=torch.bool)
            mask[:, : net[0], : net[1]] = True
            mask = mask.to(self.device)
        return tensor.to(self.device), mask, size, net

    def extract(self, image: np.ndarray) -> KeyframeFeatures:
        """Backbone features of an image, to cache for a keyframe (see :class:`KeyframeFeatures`)."""
        tensor, mask, size, net = self._prepare(image)
        if tensor is None:
            placeholder = torch.zeros(1, 0, 0, 0, device=self.device)
            return KeyframeFeatures(placeholder, placeholder, None, size, net, blank=True)
        with self._inference():
            coarse, fine = self.model.extract_features(tensor)
        return KeyframeFeatures(coarse, fine, mask, size, net)

    def match(self, query: np.ndarray | KeyframeFeatures, keyframes: Sequence[KeyframeFeatures]) -> list[PairMatches]:
        """Match a query image against keyframes: one forward pass per distinct keyframe size.

        Returns one :class:`PairMatches` per keyframe, in order; keypoints0 in the query, keypoints1 in
        the keyframe, each in its own input pixels.
        """
        q = query if isinstance(query, KeyframeFeatures) else self.extract(query)
        results: list[PairMatches] = [PairMatches.empty() for _ in keyframes]
        if q.blank:
            return results
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, keyframe in enumerate(keyframes):
            if not keyframe.blank:
                groups.setdefault(keyframe._group_key, []).append(index)
        for indices in groups.values():
            for index, matches in zip(indices, self._match_group(q, [keyframes[i] for i in indices]), strict=True):
                results[index] = matches
        return results

    def match_pair(self, image0: np.ndarray, image1: np.ndarray) -> PairMatches:
        """Match two images; keypoints in the pixels of each input image."""
        return self.match(image0, [self.extract(image1)])[0]

    def _match_group(self, query: KeyframeFeatures, keyframes: list[KeyframeFeatures]) -> list[PairMatches]:
        dtype = query.coarse.dtype  # keyframes may be cached in float16 (KeyframeFeatures.half)
        data: dict = {
            "features0": (query.coarse, query.fine),
            "features1": (
                torch.cat([k.coarse for k in keyframes]).to(dtype),
                torch.cat([k.fine for k in keyframes]).to(dtype),
            ),
        }
        if query.mask is not None or any(k.mask is not None for k in keyframes):
            data["mask0"] = query.mask if query.mask is not None else _full_mask(query)
            data["mask1"] = torch.cat([k.mask if k.mask is not None else _full_mask(k) for k in keyframes])
        with self._inference():
            out = self.model(data)
        kpts0 = out["mkpts0_f"].float().cpu().numpy()
        kpts1 = out["mkpts1_f"].float().cpu().numpy()
        conf = out["mconf"].float().cpu().numpy()
        batch = out["m_bids"].cpu().numpy()
        results = []
        for b, keyframe in enumerate(keyframes):
            sel = batch == b
            results.append(
                PairMatches(
                    to_input_pixels(kpts0[sel], query.image_size, query.network_size),
                    to_input_pixels(kpts1[sel], keyframe.image_size, keyframe.network_size),
                    conf[sel].astype(np.float32),
                )
            )
        return results


def _full_mask(features: KeyframeFeatures) -> torch.Tensor:
    h, w = features.coarse.shape[2] * PAD_MULTIPLE, features.coarse.shape[3] * PAD_MULTIPLE
    return torch.ones(1, h, w, dtype=torch.bool, device=features.coarse.device)
