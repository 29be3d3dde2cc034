"""A folder of real photographs for training textures, gathered from Debian's wallpaper packages.

Training textures must be many and varied, and must never be TUM frames. Debian's photo wallpapers
(mate-backgrounds, gnome-backgrounds, plasma-workspace-wallpapers, ukui-wallpapers) hold about a hundred
photographs and drawings; this module picks one copy of each (the largest, not KDE's dark variants or
screenshots), drops the ones with too little detail to match on (flat gradients, plain logos), and writes
them as resized JPEGs, small enough to travel with the checkout to a GPU machine (about 15 MB).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.textures import IMAGE_SUFFIXES

logger = logging.getLogger("loftr_ros.synthetic")

DEBIAN_WALLPAPER_DIRS: tuple[Path, ...] = (Path("/usr/share/backgrounds"), Path("/usr/share/wallpapers"))


@dataclass(frozen=True)
class CollectedTexture:
    source: Path
    output: Path
    detail: float  # mean absolute Laplacian of the 512-px grayscale, grey levels


def image_detail(image: np.ndarray) -> float:
    """Mean absolute Laplacian at a 512-px longest side: near 0 for gradients, 5+ for photographs."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    scale = 512 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return float(np.abs(cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F)).mean())


def candidate_files(roots: Iterable[Path]) -> list[Path]:
    """One file per wallpaper: KDE packages keep several sizes and a dark variant of each; take the largest."""
    chosen: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            if path.name.startswith("screenshot") or "images_dark" in path.parts:
                continue
            # .../Name/contents/images/WxH.jpg belongs to the wallpaper "Name"; Elephants_3840x2160.jpg to "Elephants"
            if path.parent.name == "images":
                key = str(path.parents[2])
            else:
                key = re.sub(r"_\d+x\d+$", "", str(path.with_suffix("")))
            if key not in chosen or path.stat().st_size > chosen[key].stat().st_size:
                chosen[key] = path
    return sorted(chosen.values())


def collect_textures(
    output: Path,
    roots: Iterable[Path] = DEBIAN_WALLPAPER_DIRS,
    max_side: int = 1024,
    min_detail: float = 2.0,
    quality: int = 90,
) -> list[CollectedTexture]:
    """Write the detailed photos under ``roots`` to ``output`` as JPEGs of at most ``max_side`` pixels."""
    import cv2

    output.mkdir(parents=True, exist_ok=True)
    collected = []
    for path in candidate_files(roots):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or min(image.shape[:2]) < 256:
            logger.info("skipping unreadable or small %s", path)
            continue
        scale = max_side / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        detail = image_detail(image)
        if detail < min_detail:
            logger.info("skipping %s: too little detail (%.2f)", path, detail)
            continue
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        name = f"{path.parents[2].name if path.parent.name == 'images' else path.stem}-{digest}.jpg"
        target = output / name
        cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        collected.append(CollectedTexture(path, target, detail))
    if not collected:
        msg = f"no texture photos found under {[str(r) for r in roots]}; install Debian's wallpaper packages"
        raise ConfigError(msg)
    return collected
