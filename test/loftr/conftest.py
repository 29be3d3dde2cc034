"""Shared fixtures of the LoFTR tests: textured synthetic images (random weights need texture to match)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest
import torch


def make_scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture in [0, 1], float32, (height, width)."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 10 + 4, width // 10 + 4)).astype(np.float32)
    scene = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return (scene - scene.min()) / (scene.max() - scene.min())


@pytest.fixture
def textured_pair() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``make(h0, w0, h1=h0, w1=w0)``: two overlapping uint8 crops of one scene (the second shifted)."""

    def make(h0: int, w0: int, h1: int | None = None, w1: int | None = None, seed: int = 0):
        h1, w1 = h1 or h0, w1 or w0
        scene = (make_scene(max(h0, h1) + 20, max(w0, w1) + 20, seed) * 255).astype(np.uint8)
        return scene[3 : 3 + h0, 5 : 5 + w0].copy(), scene[9 : 9 + h1, 12 : 12 + w1].copy()

    return make


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    """One torch thread: on a shared, oversubscribed CPU two threads stall on each other (see the benchmark)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
