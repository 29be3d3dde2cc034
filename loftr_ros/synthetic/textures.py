"""Real photographs used as surface textures: scikit-image's bundled photos plus an optional folder.

Photos are loaded once per process and kept as uint8 tensors; a scene picks a few of them and
builds its own small mip-mapped atlas (see :class:`TextureAtlas`), so a large extra folder costs
memory only once and every scene still renders with one ``grid_sample`` per mip level.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from loftr_ros.errors import ConfigError

logger = logging.getLogger("loftr_ros.synthetic")

# scikit-image photos that ship with the wheel (no download needed); grayscale ones are repeated to RGB.
SKIMAGE_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "brick",
    "grass",
    "gravel",
    "camera",
    "coins",
    "moon",
    "text",
    "page",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "clock",
    "cell",
    "stereo_motorcycle",
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def _to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _limit_size(image: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


@functools.lru_cache(maxsize=4)
def load_photos(extra_dir: str | None = None, max_side: int = 1024) -> tuple[np.ndarray, ...]:
    """All texture photos as RGB uint8 arrays (H, W, 3), longest side at most ``max_side``.

    Cached per (folder, size) so datasets that build thousands of scenes read the disk once.
    The order is fixed (skimage list, then the folder's files sorted by name) so seeds reproduce.
    """
    import skimage.data

    photos: list[np.ndarray] = []
    for name in SKIMAGE_PHOTOS:
        try:
            image = getattr(skimage.data, name)()
        except (AttributeError, ImportError, OSError, ValueError) as error:  # absent from this skimage
            logger.warning("skipping scikit-image photo %r: %s", name, error)
            continue
        if isinstance(image, tuple):  # stereo_motorcycle returns (left, right, disparity)
            image = image[0]
        photos.append(_limit_size(_to_rgb_uint8(image), max_side))
    if extra_dir is not None:
        import cv2

        folder = Path(extra_dir)
        if not folder.is_dir():
            msg = f"extra texture folder {folder} does not exist; pass a folder of photos or None"
            raise ConfigError(msg)
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        loaded = 0
        for path in files:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None or min(bgr.shape[:2]) < 64:
                logger.debug("skipping unreadable or tiny texture %s", path)
                continue
            photos.append(_limit_size(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side))
            loaded += 1
        logger.info("loaded %d extra texture photos from %s", loaded, folder)
    return tuple(photos)


def _square_tile(photo: np.ndarray, size: int) -> np.ndarray:
    import cv2

    h, w = photo.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = photo[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def low_texture_tile(rng: np.random.Generator, size: int) -> np.ndarray:
    """A nearly uniform tile (flat colour, a smooth gradient, faint noise): the walls LoFTR must cope with."""
    colour = rng.uniform(40, 220, size=3)
    ramp = np.linspace(-1.0, 1.0, size)
    direction = rng.uniform(-1, 1, size=2)
    gradient = direction[0] * ramp[None, :] + direction[1] * ramp[:, None]
    amplitude = rng.uniform(0.0, 25.0)
    tile = colour[None, None, :] + amplitude * gradient[:, :, None]
    tile = tile + rng.normal(0.0, rng.uniform(0.0, 2.0), size=(size, size, 1))
    return np.clip(tile, 0, 255).astype(np.uint8)


class TextureAtlas:
    """Square tiles side by side in one image, with a mip pyramid, sampled with one call per level.

    Texture coordinates ``(tile, u, v)`` with u, v in [0, 1] are mapped into the atlas; tiles are
    reflect-padded so bilinear sampling at a tile edge does not bleed into the neighbour.
    """

    def __init__(self, tiles: list[np.ndarray], levels: int = 4) -> None:
        if not tiles:
            msg = "a texture atlas needs at least one tile"
            raise ConfigError(msg)
        size = tiles[0].shape[0]
        self.tile_size = size
        self.pad = 2 ** (levels - 1) * 2
        self.num_tiles = len(tiles)
        stacked = torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2).float() / 255.0  # (T, 3, S, S)
        padded = F.pad(stacked, (self.pad,) * 4, mode="reflect")
        cell = size + 2 * self.pad
        self.cell = cell
        atlas = padded.permute(1, 2, 0, 3).reshape(3, cell, self.num_tiles * cell)  # tiles along x
        self.levels = [atlas[None]]
        for _ in range(levels - 1):
            self.levels.append(F.avg_pool2d(self.levels[-1], 2, ceil_mode=True))
        self.width = self.num_tiles * cell
        self.height = cell

    def to(self, device: torch.device | str) -> TextureAtlas:
        moved = object.__new__(TextureAtlas)
        moved.__dict__.update(self.__dict__)
        moved.levels = [level.to(device) for level in self.levels]
        return moved

    def sample(self, tile: torch.Tensor, u: torch.Tensor, v: torch.Tensor, lod: torch.Tensor) -> torch.Tensor:
        """Colours (N, 3) in [0, 1] at texture coordinates; ``lod`` is the mip level (float, >= 0)."""
        # mirror-repeat so any (u, v) is valid and the photo continues without seams
        u = 1.0 - torch.abs(torch.remainder(u, 2.0) - 1.0)
        v = 1.0 - torch.abs(torch.remainder(v, 2.0) - 1.0)
        px = tile.to(u.dtype) * self.cell + self.pad + u * (self.tile_size - 1)
        py = self.pad + v * (self.tile_size - 1)
        # level 0 pixel centres are integers; normalise for align_corners=False
        gx = (px + 0.5) / self.width * 2.0 - 1.0
        gy = (py + 0.5) / self.height * 2.0 - 1.0
        grid = torch.stack([gx, gy], dim=-1)
        lod = lod.clamp(0.0, len(self.levels) - 1.0)
        out = torch.zeros(u.shape[0], 3, dtype=u.dtype, device=u.device)
        for level, image in enumerate(self.levels):
            weight = (1.0 - (lod - level).abs()).clamp(min=0.0)
            used = torch.nonzero(weight > 0)[:, 0]  # each pixel blends at most two levels
            if used.numel() == 0:
                continue
            colour = F.grid_sample(
                image,
                grid[used].view(1, 1, -1, 2),
                mode="bilinear",
                padding_mode="border",
                align_corners=False,
            )
            out.index_add_(0, used, weight[used, None] * colour[0, :, 0, :].T)
        return out
