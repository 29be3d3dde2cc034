"""Relocalization-range pairs and indoor rooms: the ranges the issue names are reached, geometry stays exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.geometry import warp_points_depth
from loftr_ros.synthetic.pairs import default_intrinsics, look_at
from loftr_ros.synthetic.scene import INDOOR_SCENE, make_scene
from loftr_ros.synthetic.wide_pairs import WidePairConfig, sample_wide_pair
from loftr_ros.training.binned_evaluation import roll_deg, rotation_deg, scale_change

SMALL = WidePairConfig(width=160, height=120)


@pytest.fixture(scope="module")
def indoor_scene():
    return make_scene(7, INDOOR_SCENE)


def test_same_seed_same_pair_and_depth_agrees_between_views(indoor_scene) -> None:
    a = sample_wide_pair(3, SMALL, scene=indoor_scene)
    b = sample_wide_pair(3, SMALL, scene=indoor_scene)
    assert np.array_equal(a.view0.image, b.view0.image) and np.array_equal(a.T_0to1, b.T_0to1)
    # the ground truth the supervision relies on: co-visible pixels of view 0 land where view 1 sees them
    K = torch.from_numpy(a.view0.intrinsics.K)[None]
    ys, xs = torch.meshgrid(torch.arange(4, 120, 8), torch.arange(4, 160, 8), indexing="ij")
    points = torch.stack([xs, ys], -1).reshape(1, -1, 2).double()
    valid, _ = warp_points_depth(
        points, torch.from_numpy(a.view0.depth)[None].double(), torch.from_numpy(a.view1.depth)[None].double(),
        torch.from_numpy(a.T_0to1)[None], K, K,
    )  # fmt: skip
    assert 0.05 < float(valid.double().mean()) <= 1.0


def test_pairs_cover_the_relocalization_range(indoor_scene) -> None:
    pairs = [sample_wide_pair(100 + i, SMALL, scene=indoor_scene) for i in range(16)]
    rotations = [rotation_deg(p.T_0to1) for p in pairs]
    rolls = [roll_deg(p.T_0to1) for p in pairs]
    scales = [scale_change(p.view0.depth, p.view0.intrinsics.K, p.view1.intrinsics.K, p.T_0to1, p.view1.depth)
              for p in pairs]  # fmt: skip
    overlaps = [p.overlap for p in pairs]
    assert max(rotations) > 35 and min(rotations) < 25
    assert max(rolls) > 12
    assert np.nanmax(scales) > 1.3
    assert min(overlaps) < 0.4 and all(o > 0.05 for o in overlaps)


def test_roll_and_rotation_of_known_poses() -> None:
    T0 = look_at(np.zeros(3), np.array([1.0, 0.0, 0.0]))
    T1 = look_at(np.zeros(3), np.array([1.0, 0.0, 0.0]), roll=np.radians(20))
    T_0to1 = np.linalg.inv(T1) @ T0
    assert roll_deg(T_0to1) == pytest.approx(20, abs=1e-6)
    assert rotation_deg(T_0to1) == pytest.approx(20, abs=1e-6)


def test_scale_change_of_a_camera_twice_as_far() -> None:
    K = default_intrinsics(160, 120).K
    depth0 = np.full((120, 160), 1.0, np.float32)  # a wall 1 m in front of camera 0
    depth1 = np.full((120, 160), 2.0, np.float32)  # camera 1 stepped back 1 m
    T_0to1 = np.eye(4)
    T_0to1[2, 3] = 1.0
    assert scale_change(depth0, K, K, T_0to1, depth1) == pytest.approx(2.0)


def test_indoor_room_has_furniture_and_lights_that_change_between_views(indoor_scene) -> None:
    plain = make_scene(7, dataclasses.replace(INDOOR_SCENE, num_shelves=(0, 0), num_doors=(0, 0), num_tables=(0, 0)))
    assert len(indoor_scene.quads) > len(plain.quads) + 10  # shelves, doors and tables are many quads
    assert indoor_scene.lights is not None and len(indoor_scene.lights.power) >= 1
    K = default_intrinsics(160, 120)
    T = look_at(np.array([indoor_scene.size[0] / 2, indoor_scene.size[1] / 2, 1.4]),
                np.array([0.0, indoor_scene.size[1] / 2, 1.2]))  # fmt: skip
    lit = [indoor_scene.render(T, K, nuisance_seed=s) for s in range(6)]
    clean = indoor_scene.render(T, K)
    # lights falloff: the same view is shaded unevenly, and its brightness differs between seeds
    assert np.array_equal(clean.depth, lit[0].depth)
    means = [v.image.mean() for v in lit]
    assert max(means) - min(means) > 3


def test_scene_renders_the_same_after_moving_to_a_device(indoor_scene) -> None:
    K = default_intrinsics(96, 72)
    T = look_at(np.array([2.5, 2.5, 1.5]), np.array([0.0, 2.5, 1.0]))
    a = indoor_scene.render(T, K)
    b = indoor_scene.to("cpu").render(T, K)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.depth, b.depth)


def test_invalid_wide_pair_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="orbit_deg"):
        WidePairConfig(orbit_deg=(10, 200)).validate()
    with pytest.raises(ConfigError, match="scale"):
        WidePairConfig(scale=(2.0, 1.0)).validate()
