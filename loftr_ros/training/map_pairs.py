"""Training pairs from a team's own keyframe map, so LoFTR adapts to its building (``loftr-ros finetune``).

Pairs are keyframes with depth that are near each other in pose (position and viewing direction);
their supervision is the paper's, from depth and relative pose, exactly as for synthetic pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from loftr_ros.errors import MapError
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic.pairs import PairSample
from loftr_ros.synthetic.scene import RenderedView
from loftr_ros.training.dataset import to_loftr_dict
from loftr_ros.transforms import invert_transform

logger = logging.getLogger("loftr_ros.training")


@dataclass(frozen=True)
class MapPairsConfig:
    """Which keyframe pairs of a map to train on, at which size."""

    width: int = 320  # training image width (multiple of 8); keyframes are resized to it
    height: int = 240  # training image height (multiple of 8)
    neighbours: int = 3  # pairs per keyframe: its nearest keyframes in position
    max_distance_m: float = 2.0  # farther keyframes are not paired
    max_angle_deg: float = 45.0  # keyframes whose optical axes differ more are not paired


def _resized_view(keyframe: Keyframe, width: int, height: int) -> RenderedView:
    sx, sy = width / keyframe.image.shape[1], height / keyframe.image.shape[0]
    image = keyframe.image if keyframe.image.ndim == 3 else cv2.cvtColor(keyframe.image, cv2.COLOR_GRAY2RGB)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    depth = cv2.resize(np.nan_to_num(keyframe.depth), (width, height), interpolation=cv2.INTER_NEAREST)
    return RenderedView(image, depth.astype(np.float32), keyframe.intrinsics.scaled(sx, sy), keyframe.T_map_camera)


class MapPairDataset(Dataset):
    """Posed RGB-D keyframe pairs of a map, in the official LoFTR data-dict layout."""

    def __init__(self, map_path: str | Path, config: MapPairsConfig | None = None) -> None:
        self.config = config or MapPairsConfig()
        self.map_path = Path(map_path)
        with KeyframeStore(self.map_path, create=False, readonly=True) as store:
            infos = [info for info in store.list() if info.has_depth]
            pairs = set()
            for info in infos:
                near = store.nearest(info.T_map_camera, self.config.neighbours + 1,
                                     max_distance_m=self.config.max_distance_m,
                                     max_angle_deg=self.config.max_angle_deg)  # fmt: skip
                pairs.update(
                    tuple(sorted((info.id, other.id))) for other, _ in near if other.id != info.id and other.has_depth
                )
            self.pairs = sorted(pairs)
            self._keyframes = {kid: store.get(kid) for kid in {k for pair in self.pairs for k in pair}}
        if not self.pairs:
            msg = f"map {self.map_path} has no pair of keyframes with depth within {self.config.max_distance_m} m"
            raise MapError(msg)
        logger.info("%s: %d training pairs from %d keyframes", self.map_path, len(self.pairs), len(self._keyframes))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        id0, id1 = self.pairs[index % len(self.pairs)]
        view0, view1 = (_resized_view(self._keyframes[k], self.config.width, self.config.height) for k in (id0, id1))
        T_0to1 = invert_transform(view1.T_world_camera) @ view0.T_world_camera
        sample = PairSample(view0, view1, T_0to1, invert_transform(T_0to1), overlap=float("nan"), seed=index)
        return to_loftr_dict(sample, name=self.map_path.stem)
