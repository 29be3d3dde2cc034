"""A torch Dataset of synthetic pairs in the official LoFTR data-dict layout.

Item ``i`` is a pure function of ``(config.seed, i)``, so any worker split and any epoch order
gives the same pairs. Scene pairs and homographic photo pairs share one set of keys (homographic
ones have zero depth, identity poses and ``is_homography`` True), so they can share a batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import Dataset

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.pairs import (
    HomographyConfig,
    PairConfig,
    PairSample,
    sample_homography_pair,
    sample_pair,
)
from loftr_ros.synthetic.scene import Scene, SceneConfig, make_scene
from loftr_ros.synthetic.wide_pairs import WidePairConfig, sample_wide_pair

logger = logging.getLogger("loftr_ros.training")


@dataclass(frozen=True)
class SyntheticDatasetConfig:
    """What :class:`SyntheticPairDataset` yields."""

    length: int = 10_000  # items per epoch
    seed: int = 0  # base seed; item i is derived from (seed, i)
    homography_ratio: float = 0.2  # share of items that are homographic photo pairs
    pairs_per_scene: int = 4  # consecutive items share a room (building one costs more than a pair)
    # image size, baseline, overlap, occluders: PairConfig for short baselines, WidePairConfig for relocalization
    pair: PairConfig | WidePairConfig = field(default_factory=PairConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)  # rooms and their textures
    homography: HomographyConfig = field(default_factory=HomographyConfig)  # photo warps
    render_device: str = "cpu"  # where rooms are ray-cast ('cuda' on a GPU machine); items stay on the CPU
    mix_with: SyntheticDatasetConfig | None = None  # a second distribution, e.g. short baselines beside wide ones
    mix_ratio: float = 0.0  # share of items drawn from ``mix_with``

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        if self.length < 1 or self.pairs_per_scene < 1:
            msg = f"length and pairs_per_scene must be >= 1, got {self.length}, {self.pairs_per_scene}"
            raise ConfigError(msg)
        if not 0.0 <= self.mix_ratio <= 1.0 or (self.mix_ratio > 0 and self.mix_with is None):
            raise ConfigError(f"mix_ratio must be in [0, 1] and needs mix_with, got {self.mix_ratio}")
        if self.mix_with is not None:
            self.mix_with.validate()
        if not 0.0 <= self.homography_ratio <= 1.0:
            msg = f"homography_ratio must be in [0, 1], got {self.homography_ratio}"
            raise ConfigError(msg)
        if (self.pair.width, self.pair.height) != (self.homography.width, self.homography.height):
            msg = "pair and homography configs must use the same image size so items can be batched"
            raise ConfigError(msg)
        for size in (self.pair.width, self.pair.height):
            if size % 8 != 0:
                size_text = f"{self.pair.width}x{self.pair.height}"
                msg = f"image sides must be multiples of 8 (the coarse scale), got {size_text}"
                raise ConfigError(msg)
        self.pair.validate()
        self.scene.validate()
        self.homography.validate()


def _gray(image: np.ndarray) -> torch.Tensor:
    """(1, H, W) float32 in [0, 1] from (H, W, 3) uint8 RGB, BT.601 luma."""
    rgb = torch.from_numpy(image).float()
    gray = rgb @ torch.tensor([0.299, 0.587, 0.114])
    return (gray / 255.0)[None]


def to_loftr_dict(sample: PairSample, name: str = "synthetic") -> dict:
    """The official LoFTR per-pair dict (un-batched) of a :class:`PairSample`.

    Keys: ``image0``, ``image1`` (1, H, W) float32 grayscale in [0, 1]; ``depth0``, ``depth1``
    (H, W) float32 metres, 0 = unknown; ``K0``, ``K1`` (3, 3), ``T_0to1``, ``T_1to0`` (4, 4),
    ``H_0to1`` (3, 3, zeros for scene pairs) float32; ``is_homography`` bool; ``overlap`` float;
    ``dataset_name``, ``pair_id``, ``pair_names``.
    """
    v0, v1 = sample.view0, sample.view1
    H = np.zeros((3, 3)) if sample.H_0to1 is None else sample.H_0to1
    return {
        "image0": _gray(v0.image),
        "image1": _gray(v1.image),
        "depth0": torch.from_numpy(v0.depth.copy()),
        "depth1": torch.from_numpy(v1.depth.copy()),
        "K0": torch.from_numpy(v0.intrinsics.K).float(),
        "K1": torch.from_numpy(v1.intrinsics.K).float(),
        "T_0to1": torch.from_numpy(sample.T_0to1).float(),
        "T_1to0": torch.from_numpy(sample.T_1to0).float(),
        "H_0to1": torch.from_numpy(np.asarray(H)).float(),
        "is_homography": torch.tensor(sample.is_homography),
        "overlap": torch.tensor(sample.overlap, dtype=torch.float32),
        "dataset_name": name,
        "pair_id": sample.seed,
        "pair_names": (f"{name}/{sample.seed}/0", f"{name}/{sample.seed}/1"),
    }


class SyntheticPairDataset(Dataset):
    """Endless variety of posed pairs: item ``i`` renders a pair from a room (or warps a photo)."""

    def __init__(self, config: SyntheticDatasetConfig | None = None) -> None:
        self.config = SyntheticDatasetConfig() if config is None else config
        self.config.validate()
        self._scene: tuple[int, Scene] | None = None  # last room built, reused by its pairs
        mixed = self.config.mix_with
        self._mixed = SyntheticPairDataset(mixed) if mixed is not None and self.config.mix_ratio > 0 else None

    def __len__(self) -> int:
        return self.config.length

    def item_seed(self, index: int) -> int:
        """The seed of item ``index``: derived from (config.seed, index), independent across items."""
        return int(np.random.SeedSequence([self.config.seed, index]).generate_state(1)[0] >> 1)

    def is_homography(self, index: int) -> bool:
        """Whether item ``index`` is a homographic photo pair (fixed per index)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.config.seed, index, 7]))
        return bool(rng.random() < self.config.homography_ratio)

    def _from_mix(self, index: int) -> bool:
        rng = np.random.default_rng(np.random.SeedSequence([self.config.seed, index, 17]))
        return bool(rng.random() < self.config.mix_ratio)

    def _scene_for(self, index: int) -> Scene:
        scene_index = index // self.config.pairs_per_scene
        if self._scene is None or self._scene[0] != scene_index:
            seed = int(np.random.SeedSequence([self.config.seed, scene_index, 11]).generate_state(1)[0] >> 1)
            scene = make_scene(seed, self.config.scene)
            self._scene = (scene_index, scene.to(self.config.render_device))
        return self._scene[1]

    def sample(self, index: int) -> PairSample:
        """The :class:`PairSample` behind item ``index`` (for inspection and drawing)."""
        if not 0 <= index < len(self):
            msg = f"index {index} out of range for a dataset of {len(self)} items"
            raise IndexError(msg)
        if self._mixed is not None and self._from_mix(index):
            return self._mixed.sample(index % len(self._mixed))
        seed = self.item_seed(index)
        if self.is_homography(index):
            return sample_homography_pair(seed, self.config.homography)
        if isinstance(self.config.pair, WidePairConfig):
            return sample_wide_pair(seed, self.config.pair, scene=self._scene_for(index))
        return sample_pair(seed, self.config.pair, scene=self._scene_for(index))

    def __getitem__(self, index: int) -> dict:
        return to_loftr_dict(self.sample(index))
