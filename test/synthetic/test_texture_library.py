"""Collecting training photos: one copy per wallpaper, flat pictures dropped, small JPEGs written."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.texture_library import collect_textures


def write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


def test_one_detailed_copy_per_wallpaper(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8), (3, 3), 0)
    flat = np.tile(np.linspace(0, 255, 800, dtype=np.uint8)[None, :, None], (600, 1, 3))
    source = tmp_path / "share"
    write(source / "wallpapers" / "Forest" / "contents" / "images" / "800x600.png", photo)
    write(source / "wallpapers" / "Forest" / "contents" / "images" / "400x300.png", photo[::2, ::2])
    write(source / "wallpapers" / "Forest" / "contents" / "images_dark" / "800x600.png", photo // 2)
    write(source / "wallpapers" / "Forest" / "contents" / "screenshot.png", photo)
    write(source / "backgrounds" / "Gradient.png", flat)
    write(source / "backgrounds" / "Stones_1600x1200.jpg", photo)
    write(source / "backgrounds" / "Stones.jpg", photo[:400, :500])
    collected = collect_textures(tmp_path / "out", [source], max_side=256)
    names = sorted(item.source.relative_to(source).as_posix() for item in collected)
    assert names == ["backgrounds/Stones_1600x1200.jpg", "wallpapers/Forest/contents/images/800x600.png"]
    for item in collected:
        assert max(cv2.imread(str(item.output)).shape[:2]) == 256


def test_no_photos_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no texture photos"):
        collect_textures(tmp_path / "out", [tmp_path / "nothing"])
