"""The synthetic world: exact depth, consistent geometry across views, determinism, configuration."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.synthetic import (
    NO_NUISANCE,
    HomographyConfig,
    PairConfig,
    Quads,
    Scene,
    SceneConfig,
    TextureAtlas,
    default_intrinsics,
    load_photos,
    look_at,
    make_scene,
    make_sequence,
    relative_pose,
    sample_homography_pair,
    sample_pair,
)
from loftr_ros.synthetic.geometry import warp_points_depth

W, H = 160, 120
CLEAN_SCENE = SceneConfig(tile_size=128, nuisance=NO_NUISANCE)
CLEAN_PAIR = PairConfig(width=W, height=H, occluder_prob=0.0, nuisances=False)


def plane_scene(points: list[tuple[np.ndarray, np.ndarray, np.ndarray]], tile_size: int = 64) -> Scene:
    """A scene of the given parallelograms, textured with a random-noise tile (rich texture)."""
    rng = np.random.default_rng(0)
    tile = cv2.GaussianBlur(rng.integers(0, 256, (tile_size, tile_size, 3), dtype=np.uint8), (3, 3), 0)
    n = len(points)
    quads = Quads(
        origin=torch.tensor(np.array([p[0] for p in points]), dtype=torch.float64),
        edge_u=torch.tensor(np.array([p[1] for p in points]), dtype=torch.float64),
        edge_v=torch.tensor(np.array([p[2] for p in points]), dtype=torch.float64),
        tile=torch.zeros(n, dtype=torch.int64),
        tex_affine=torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * n, dtype=torch.float64),
        albedo=torch.ones(n, 3),
    )
    return Scene(quads, TextureAtlas([tile], levels=2), (10.0, 10.0, 10.0), CLEAN_SCENE, 0, [])


def test_depth_of_a_fronto_parallel_plane_is_exact() -> None:
    # the plane z = 2 in the world; a camera at the origin looking along +z (optical frame = world)
    scene = plane_scene([(np.array([-10.0, -10.0, 2.0]), np.array([20.0, 0, 0]), np.array([0, 20.0, 0]))])
    view = scene.render(np.eye(4), default_intrinsics(W, H))
    assert view.image.shape == (H, W, 3) and view.image.dtype == np.uint8
    assert view.depth.dtype == np.float32
    np.testing.assert_allclose(view.depth, 2.0, rtol=1e-6)


def test_depth_of_a_tilted_plane_matches_the_analytic_intersection() -> None:
    # plane through (0, 0, 3) with normal n = (0.3, 0, 1): depth z at pixel ray (x', y', 1) is
    # n.p0 / n.(x', y', 1)
    n = np.array([0.3, 0.0, 1.0])
    u = np.cross(n, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(n, u)
    v /= np.linalg.norm(v)
    p0 = np.array([0.0, 0.0, 3.0])
    scene = plane_scene([(p0 - 20 * u - 20 * v, 40 * u, 40 * v)])
    K = default_intrinsics(W, H)
    view = scene.render(np.eye(4), K)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.stack([(xs - K.cx) / K.fx, (ys - K.cy) / K.fy, np.ones_like(xs)], axis=-1)
    expected = (n @ p0) / (rays @ n)
    np.testing.assert_allclose(view.depth, expected, rtol=1e-5)


def test_nearest_surface_wins_and_empty_pixels_have_zero_depth() -> None:
    far = (np.array([-1.0, -1.0, 4.0]), np.array([2.0, 0, 0]), np.array([0, 2.0, 0]))
    near = (np.array([0.0, -5.0, 1.0]), np.array([5.0, 0, 0]), np.array([0, 10.0, 0]))  # right half only
    scene = plane_scene([far, near])
    K = default_intrinsics(W, H)
    depth = scene.render(np.eye(4), K).depth
    assert depth[H // 2, W - 1] == pytest.approx(1.0)  # the near plane covers the right side
    assert depth[H // 2, W // 2 - 5] == pytest.approx(4.0)  # the far square shows left of centre
    assert depth[0, 0] == 0.0  # nothing there


def test_look_at_follows_the_optical_frame_convention() -> None:
    T = look_at(np.array([1.0, 2.0, 1.5]), np.array([5.0, 2.0, 1.5]))
    np.testing.assert_allclose(T[:3, 2], [1, 0, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(T[:3, 0], [0, -1, 0], atol=1e-12)  # x right (world -y when facing +x)
    np.testing.assert_allclose(T[:3, 1], [0, 0, -1], atol=1e-12)  # y down
    np.testing.assert_allclose(T[:3, 3], [1.0, 2.0, 1.5])
    assert np.linalg.det(T[:3, :3]) == pytest.approx(1.0)


def test_same_seed_gives_bit_identical_pairs_and_another_seed_does_not() -> None:
    config = PairConfig(width=W, height=H, occluder_prob=1.0)
    scene_config = SceneConfig(tile_size=128)
    a = sample_pair(11, config, scene_config)
    b = sample_pair(11, config, scene_config)
    for va, vb in ((a.view0, b.view0), (a.view1, b.view1)):
        assert np.array_equal(va.image, vb.image)
        assert np.array_equal(va.depth, vb.depth)
        assert np.array_equal(va.T_world_camera, vb.T_world_camera)
    assert np.array_equal(a.T_0to1, b.T_0to1)
    c = sample_pair(12, config, scene_config)
    assert not np.array_equal(a.view0.image, c.view0.image)


def test_pair_geometry_is_consistent_between_depth_pose_and_pixels() -> None:
    """Warping image 0 into image 1 with depth0 and T_0to1 lands on the same colours."""
    pair = sample_pair(3, CLEAN_PAIR, CLEAN_SCENE)
    assert CLEAN_PAIR.overlap[0] <= pair.overlap <= CLEAN_PAIR.overlap[1]
    np.testing.assert_allclose(
        pair.T_0to1, relative_pose(pair.view0.T_world_camera, pair.view1.T_world_camera)
    )
    np.testing.assert_allclose(pair.T_0to1 @ pair.T_1to0, np.eye(4), atol=1e-12)
    ys, xs = np.mgrid[0:H, 0:W]
    pts = torch.from_numpy(np.stack([xs.ravel(), ys.ravel()], 1)).float()[None]
    K = torch.from_numpy(pair.view0.intrinsics.K)[None]
    valid, w = warp_points_depth(
        pts,
        torch.from_numpy(pair.view0.depth)[None],
        torch.from_numpy(pair.view1.depth)[None],
        torch.from_numpy(pair.T_0to1)[None],
        K,
        K,
    )
    valid, w = valid[0].numpy(), w[0].numpy()
    assert valid.mean() > 0.2
    warped = cv2.remap(
        pair.view1.image.astype(np.float32),
        w[:, 0].reshape(H, W).astype(np.float32),
        w[:, 1].reshape(H, W).astype(np.float32),
        cv2.INTER_LINEAR,
    ).reshape(-1, 3)
    source = pair.view0.image.reshape(-1, 3).astype(np.float32)
    error = np.abs(warped - source)[valid].mean()
    shuffled = np.abs(np.roll(warped, 997, axis=0) - source)[valid].mean()
    assert error < 0.15 * shuffled  # texture resampling blurs a little, but the colours agree


def test_occluders_are_in_the_depth_of_their_view_only() -> None:
    config = PairConfig(width=W, height=H, occluder_prob=1.0, nuisances=False)
    occluded = sample_pair(5, config, CLEAN_SCENE)
    clear = sample_pair(5, PairConfig(width=W, height=H, occluder_prob=0.0, nuisances=False), CLEAN_SCENE)
    np.testing.assert_array_equal(occluded.T_0to1, clear.T_0to1)  # the same cameras
    nearer = occluded.view0.depth < clear.view0.depth - 1e-4
    assert nearer.any()  # the occluder hides part of the room in view 0
    assert np.all(occluded.view0.depth <= clear.view0.depth + 1e-5)  # and never pushes anything away


def test_nuisances_change_pixels_not_geometry_and_are_seeded() -> None:
    scene = make_scene(2, SceneConfig(tile_size=128))
    K = default_intrinsics(W, H)
    T = look_at(np.array([scene.size[0] / 2, scene.size[1] / 2, 1.5]), np.array([0.0, 0.0, 1.2]))
    clean = scene.render(T, K)
    noisy = scene.render(T, K, nuisance_seed=4)
    again = scene.render(T, K, nuisance_seed=4)
    assert np.array_equal(clean.depth, noisy.depth)
    assert not np.array_equal(clean.image, noisy.image)
    assert np.array_equal(noisy.image, again.image)


def test_homography_pair_is_exact() -> None:
    """Warping image 0 by H_0to1 reproduces image 1 (no nuisances); H maps pixel centres."""
    pair = sample_homography_pair(8, HomographyConfig(width=W, height=H, nuisances=False))
    assert pair.is_homography and np.all(pair.view0.depth == 0)
    warped = cv2.warpPerspective(pair.view0.image, pair.H_0to1, (W, H), flags=cv2.INTER_LINEAR)
    ones = np.full((H, W), 255, np.uint8)
    mask = cv2.warpPerspective(ones, pair.H_0to1, (W, H), flags=cv2.INTER_NEAREST) == 255
    mask = cv2.erode(mask.astype(np.uint8), np.ones((5, 5))).astype(bool)
    assert mask.mean() > 0.2
    error = np.abs(warped.astype(np.float32) - pair.view1.image)[mask].mean()
    shuffled = np.abs(np.roll(warped.astype(np.float32), 31, axis=1) - pair.view1.image)[mask].mean()
    assert error < 0.15 * shuffled
    again = sample_homography_pair(8, HomographyConfig(width=W, height=H, nuisances=False))
    assert np.array_equal(pair.view1.image, again.view1.image) and np.array_equal(pair.H_0to1, again.H_0to1)


def test_sequence_is_smooth_and_split_into_keyframes_and_queries() -> None:
    seq = make_sequence(4, n_frames=12, keyframe_every=4, config=PairConfig(width=80, height=64))
    assert seq.keyframe_indices == [0, 4, 8]
    assert seq.query_indices == [1, 2, 3, 5, 6, 7, 9, 10, 11]
    views = sorted(
        zip(seq.keyframe_indices + seq.query_indices, seq.keyframes + seq.queries, strict=True),
        key=lambda item: item[0],
    )
    positions = np.array([v.T_world_camera[:3, 3] for _, v in views])
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    assert steps.max() < 2.0 * np.median(steps) + 1e-9  # evenly spaced along the loop
    for _, view in views:
        assert np.all(view.depth > 0)  # inside a closed room every ray hits a surface
        assert seq.scene.is_free(view.T_world_camera[:3, 3], clearance=0.25)
    again = make_sequence(4, n_frames=12, keyframe_every=4, config=PairConfig(width=80, height=64))
    assert np.array_equal(again.queries[3].image, seq.queries[3].image)


def test_extra_texture_folder_is_loaded(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"photo{i}.png"), rng.integers(0, 256, (100, 120, 3), dtype=np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    base = load_photos(None, 256)
    extended = load_photos(str(tmp_path), 256)
    assert len(extended) == len(base) + 2
    scene = make_scene(0, SceneConfig(tile_size=64, extra_texture_dir=str(tmp_path), textures_per_scene=30))
    assert scene.atlas.num_tiles == len(extended) + 3  # all photos plus the low-texture tiles


def test_bad_options_raise_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="tile_size"):
        make_scene(0, SceneConfig(tile_size=100))
    with pytest.raises(ConfigError, match="camera_margin"):
        make_scene(0, SceneConfig(camera_margin=3.0))
    with pytest.raises(ConfigError, match="overlap"):
        sample_pair(0, PairConfig(overlap=(0.8, 0.2)))
    with pytest.raises(ConfigError, match="does not exist"):
        load_photos(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="width, height"):
        default_intrinsics(4, 4)


def test_intrinsics_are_centred_with_the_requested_fov() -> None:
    K = default_intrinsics(320, 240, 90.0)
    assert isinstance(K, CameraIntrinsics)
    assert K.fx == pytest.approx(160.0) and K.cx == pytest.approx(159.5) and K.cy == pytest.approx(119.5)
    assert 2 * math.degrees(math.atan(K.cx / K.fx)) < 90.0


def _pair_digest(seed: int) -> str:
    import hashlib

    pair = sample_pair(seed, PairConfig(width=W, height=H, occluder_prob=1.0), SceneConfig(tile_size=128))
    digest = hashlib.sha256()
    for array in (pair.view0.image, pair.view1.image, pair.view0.depth, pair.view1.depth, pair.T_0to1):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_a_fresh_process_renders_the_same_bits() -> None:
    """No hidden dependence on global random state or on what was rendered before."""
    import subprocess
    import sys
    from pathlib import Path

    torch.manual_seed(123)  # disturb the global generators: the generator must not use them
    np.random.seed(123)
    here = _pair_digest(11)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import test_scene; print(test_scene._pair_digest(11))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code, str(root), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip().splitlines()[-1] == here


def test_sequence_queries_can_leave_the_keyframe_path() -> None:
    config = PairConfig(width=80, height=64, nuisances=False, occluder_prob=0.0)
    plain = make_sequence(4, n_frames=8, keyframe_every=4, config=config)
    moved = make_sequence(4, n_frames=8, keyframe_every=4, config=config, query_position_jitter=0.1)
    for a, b in zip(plain.keyframes, moved.keyframes, strict=True):
        assert np.array_equal(a.T_world_camera, b.T_world_camera)  # the map is the same
    offsets = [
        np.linalg.norm(a.T_world_camera[:3, 3] - b.T_world_camera[:3, 3])
        for a, b in zip(plain.queries, moved.queries, strict=True)
    ]
    assert 0.01 < np.mean(offsets) < 0.5
    with pytest.raises(ConfigError, match="jitter"):
        make_sequence(4, n_frames=8, config=config, query_rotation_jitter=-1.0)
