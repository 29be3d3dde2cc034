"""Pairs across relocalization's range: the second view orbits a seen point by up to 60 degrees.

:func:`loftr_ros.synthetic.pairs.sample_pair` moves the second camera a short way and looks at the same
point, the range of visual odometry. A robot relocalizing against a map sees a keyframe's scene from
another side of the room, closer or farther, tilted, with little overlap. Here camera 1 orbits a 3D
point seen by camera 0 by a drawn angle (yaw and pitch), stands a drawn factor closer or farther
(scale change), rolls freely and aims off the point (overlap down to 0.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.pairs import (
    PairSample,
    _overlap,
    _view_ok,
    default_intrinsics,
    look_at,
    render_pair,
    sample_camera,
)
from loftr_ros.synthetic.scene import Scene, SceneConfig, make_scene


@dataclass(frozen=True)
class WidePairConfig:
    """How :func:`sample_wide_pair` places the second camera; ranges are (low, high), drawn uniformly."""

    width: int = 320  # image width, pixels
    height: int = 240  # image height, pixels
    hfov_deg: float = 60.0  # horizontal field of view of both cameras, degrees
    orbit_deg: tuple[float, float] = (0.0, 60.0)  # viewpoint change around the seen point, degrees
    max_pitch_deg: float = 35.0  # the orbit's vertical part stays within this, degrees
    roll_deg: float = 30.0  # camera 1's roll is drawn in +-this, degrees
    scale: tuple[float, float] = (0.5, 2.0)  # camera 1's distance to the point over camera 0's (log-uniform)
    aim_offset: float = 0.7  # camera 1 aims off the point by up to this share of its half field of view
    overlap: tuple[float, float] = (0.1, 0.9)  # accepted share of image-0 points visible in image 1
    max_tries: int = 30  # placements tried before settling for the closest overlap
    min_depth: float = 0.5  # reject views whose median depth is below this, metres
    occluder_prob: float = 0.3  # chance, per view, of 1-2 quads seen in that view only
    nuisances: bool = True  # apply the scene's NuisanceConfig to each view

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        if not 0.0 <= self.orbit_deg[0] <= self.orbit_deg[1] < 180.0:
            raise ConfigError(f"WidePairConfig.orbit_deg must be 0 <= low <= high < 180, got {self.orbit_deg}")
        if not 0.0 < self.scale[0] <= self.scale[1]:
            raise ConfigError(f"WidePairConfig.scale must be 0 < low <= high, got {self.scale}")
        if not 0.0 <= self.overlap[0] <= self.overlap[1] <= 1.0:
            raise ConfigError(f"WidePairConfig.overlap must be 0 <= low <= high <= 1, got {self.overlap}")
        if self.max_tries < 1 or self.roll_deg < 0 or self.aim_offset < 0 or not 0 <= self.occluder_prob <= 1:
            raise ConfigError("WidePairConfig: max_tries >= 1, roll_deg >= 0, aim_offset >= 0, occluder_prob in [0, 1]")
        default_intrinsics(self.width, self.height, self.hfov_deg)


def _orbit(vector: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """``vector`` turned by ``yaw`` about world z, then by ``pitch`` about its horizontal normal."""
    turned = cv2.Rodrigues(np.array([0.0, 0.0, yaw]))[0] @ vector
    axis = np.cross(turned, [0.0, 0.0, 1.0])
    if np.linalg.norm(axis) < 1e-9:
        return turned
    return cv2.Rodrigues(axis / np.linalg.norm(axis) * pitch)[0] @ turned


def _place_second_camera(
    scene: Scene, rng: np.random.Generator, T0: np.ndarray, config: WidePairConfig
) -> np.ndarray | None:
    K = default_intrinsics(config.width, config.height, config.hfov_deg)
    small = K.scaled(0.125, 0.125)
    depth = scene.depth_only(T0, small)
    # the orbit's centre: a point seen near the middle of view 0
    u = rng.uniform(0.25, 0.75) * (small.width - 1)
    v = rng.uniform(0.25, 0.75) * (small.height - 1)
    z = float(depth[round(v), round(u)])
    if z <= 0:
        return None
    point = T0[:3, :3] @ (np.array([(u - small.cx) / small.fx, (v - small.cy) / small.fy, 1.0]) * z) + T0[:3, 3]
    angle = math.radians(rng.uniform(*config.orbit_deg))
    direction = rng.uniform(0.0, 2.0 * math.pi)
    pitch_limit = math.radians(config.max_pitch_deg)
    yaw, pitch = angle * math.cos(direction), float(np.clip(angle * math.sin(direction), -pitch_limit, pitch_limit))
    scale = math.exp(rng.uniform(math.log(config.scale[0]), math.log(config.scale[1])))
    position = point + scale * _orbit(T0[:3, 3] - point, yaw, pitch)
    if not scene.is_free(position):
        return None
    distance = float(np.linalg.norm(position - point))
    half_fov = math.radians(config.hfov_deg) / 2
    offset = rng.normal(size=3)
    offset -= offset @ (point - position) / distance**2 * (point - position)  # across the line of sight
    offset *= rng.uniform(0.0, config.aim_offset) * distance * math.tan(half_fov) / max(np.linalg.norm(offset), 1e-9)
    T1 = look_at(position, point + offset, roll=math.radians(rng.uniform(-config.roll_deg, config.roll_deg)))
    return T1 if _view_ok(scene, T1, K, config.min_depth) else None


def sample_wide_pair(
    seed: int,
    config: WidePairConfig | None = None,
    scene_config: SceneConfig | None = None,
    scene: Scene | None = None,
) -> PairSample:
    """Two views of a room across relocalization's range of viewpoint, roll, scale and overlap.

    Placements are redrawn until the overlap lies in ``config.overlap`` (or the closest of ``max_tries``
    is kept). Same seed, same pair, as :func:`loftr_ros.synthetic.pairs.sample_pair`.
    """
    config = WidePairConfig() if config is None else config
    config.validate()
    scene = make_scene(seed, scene_config) if scene is None else scene
    rng = np.random.default_rng([seed, 5])
    K = default_intrinsics(config.width, config.height, config.hfov_deg)
    low, high = config.overlap
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None  # (distance to range, overlap, T0, T1)
    for _ in range(config.max_tries):
        T0 = sample_camera(scene, rng, K, config.min_depth)
        T1 = _place_second_camera(scene, rng, T0, config)
        if T1 is None:
            continue
        overlap = _overlap(scene, T0, T1, K)
        distance = max(low - overlap, overlap - high, 0.0)
        if best is None or distance < best[0]:
            best = (distance, overlap, T0, T1)
        if distance == 0.0:
            break
    if best is None:
        msg = f"could not place two cameras in scene {scene.seed}; relax WidePairConfig"
        raise ConfigError(msg)
    _, overlap, T0, T1 = best
    return render_pair(scene, rng, (T0, T1), K, seed, overlap, config.occluder_prob, config.nuisances)
