"""Posed image pairs, homographic pairs and camera trajectories drawn from synthetic scenes.

Everything is a pure function of its seed and config: the same seed gives bit-identical images,
depth and poses (on the same machine and torch version).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from loftr_ros.errors import ConfigError
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.synthetic.geometry import warp_points_depth
from loftr_ros.synthetic.nuisance import NuisanceConfig, apply_nuisances
from loftr_ros.synthetic.scene import RenderedView, Scene, SceneConfig, make_scene
from loftr_ros.synthetic.textures import load_photos

logger = logging.getLogger("loftr_ros.synthetic")


def default_intrinsics(width: int = 320, height: int = 240, hfov_deg: float = 60.0) -> CameraIntrinsics:
    """A centred pinhole camera with square pixels and the given horizontal field of view."""
    if width < 8 or height < 8 or not 1.0 < hfov_deg < 170.0:
        msg = f"need width, height >= 8 and 1 < hfov_deg < 170, got {width}x{height}, {hfov_deg} deg"
        raise ConfigError(msg)
    f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2)
    return CameraIntrinsics(width=width, height=height, fx=f, fy=f, cx=(width - 1) / 2, cy=(height - 1) / 2)


def look_at(position: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """``T_world_camera`` (4x4) of an optical camera at ``position`` looking at ``target``; world z up."""
    forward = np.asarray(target, np.float64) - np.asarray(position, np.float64)
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0])
    if abs(forward @ up) > 0.999:  # looking straight up or down: any right vector will do
        up = np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = right, down, forward, position
    return T


def relative_pose(T_world_cam0: np.ndarray, T_world_cam1: np.ndarray) -> np.ndarray:
    """``T_0to1`` = T_cam1_cam0: maps points in camera 0's frame to camera 1's."""
    return np.linalg.inv(T_world_cam1) @ T_world_cam0


@dataclass(frozen=True)
class PairConfig:
    """How :func:`sample_pair` places the second camera and what it adds to each view."""

    width: int = 320  # image width, pixels
    height: int = 240  # image height, pixels
    hfov_deg: float = 60.0  # horizontal field of view of both cameras, degrees
    baseline: tuple[float, float] = (0.1, 1.2)  # distance between the camera centres, metres
    target_jitter: float = 0.4  # std of the second camera's look-at point around the first's, metres
    roll_std: float = 0.15  # std of each camera's roll, radians
    overlap: tuple[float, float] = (0.3, 0.9)  # accepted share of image-0 points visible in image 1
    max_tries: int = 20  # camera placements tried before settling for the closest overlap
    min_depth: float = 0.7  # reject views whose median depth is below this, metres (face to a wall)
    occluder_prob: float = 0.3  # chance, per view, of 1-2 quads seen in that view only
    nuisances: bool = True  # apply the scene's NuisanceConfig to each view

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        if not 0.0 <= self.baseline[0] <= self.baseline[1]:
            msg = f"PairConfig.baseline must be 0 <= low <= high, got {self.baseline}"
            raise ConfigError(msg)
        if not 0.0 <= self.overlap[0] <= self.overlap[1] <= 1.0:
            msg = f"PairConfig.overlap must be 0 <= low <= high <= 1, got {self.overlap}"
            raise ConfigError(msg)
        if self.max_tries < 1:
            msg = "PairConfig.max_tries must be at least 1"
            raise ConfigError(msg)
        if not 0.0 <= self.occluder_prob <= 1.0:
            msg = f"PairConfig.occluder_prob must be in [0, 1], got {self.occluder_prob}"
            raise ConfigError(msg)
        default_intrinsics(self.width, self.height, self.hfov_deg)


@dataclass
class PairSample:
    """Two views of one scene (or one photo) with exact relative geometry."""

    view0: RenderedView
    view1: RenderedView
    T_0to1: np.ndarray  # (4, 4) float64, camera 0 frame -> camera 1 frame; identity for homographies
    T_1to0: np.ndarray  # (4, 4) float64
    overlap: float  # share of image-0 points (coarse grid) visible in image 1, before occluders
    seed: int
    H_0to1: np.ndarray | None = None  # (3, 3) float64 image-0 -> image-1 pixels; homography pairs only

    @property
    def is_homography(self) -> bool:
        return self.H_0to1 is not None


def _overlap(scene: Scene, T0: np.ndarray, T1: np.ndarray, K: CameraIntrinsics) -> float:
    small = K.scaled(0.25, 0.25)
    d0 = torch.from_numpy(scene.depth_only(T0, small))[None]
    d1 = torch.from_numpy(scene.depth_only(T1, small))[None]
    ys, xs = torch.meshgrid(torch.arange(small.height), torch.arange(small.width), indexing="ij")
    pts = torch.stack([xs, ys], dim=-1).reshape(1, -1, 2).float()
    Kt = torch.from_numpy(small.K)[None]
    valid, _ = warp_points_depth(pts, d0, d1, torch.from_numpy(relative_pose(T0, T1))[None], Kt, Kt)
    return float(valid.float().mean())


def _view_ok(scene: Scene, T: np.ndarray, K: CameraIntrinsics, min_depth: float) -> bool:
    depth = scene.depth_only(T, K.scaled(0.125, 0.125))
    return bool((depth > 0).all()) and float(np.median(depth)) >= min_depth


def sample_camera(
    scene: Scene, rng: np.random.Generator, K: CameraIntrinsics, min_depth: float = 0.7
) -> np.ndarray:
    """A random ``T_world_camera`` in the room's free middle, roughly level, not facing a near surface."""
    sx, sy, sz = scene.size
    m = scene.config.camera_margin
    T = np.eye(4)
    for _ in range(50):
        position = np.array(
            [rng.uniform(m, sx - m), rng.uniform(m, sy - m), rng.uniform(0.8, min(2.2, sz - 0.3))]
        )
        if not scene.is_free(position):
            continue
        yaw = rng.uniform(-math.pi, math.pi)
        pitch = float(np.clip(rng.normal(-0.1, 0.25), -0.8, 0.6))
        direction = np.array(
            [math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), math.sin(pitch)]
        )
        T = look_at(position, position + direction, roll=rng.normal(0.0, 0.05))
        if _view_ok(scene, T, K, min_depth):
            return T
    return T


def _occluders(scene: Scene, rng: np.random.Generator, T: np.ndarray, prob: float):
    if rng.random() >= prob:
        return None
    distance = rng.uniform(0.5, 1.5)
    centre = T[:3, 3] + T[:3, 2] * distance + (T[:3, :2] @ rng.uniform(-0.3, 0.3, size=2)) * distance
    return scene.random_quads(rng, int(rng.integers(1, 3)), centre, extent=0.5 * distance)


def sample_pair(
    seed: int,
    config: PairConfig | None = None,
    scene_config: SceneConfig | None = None,
    scene: Scene | None = None,
) -> PairSample:
    """Two overlapping posed views of a random room, or of ``scene`` (then ``scene_config`` is unused).

    The second camera stands ``baseline`` away and looks near the 3D point at the centre of the first
    view; placements are redrawn until the overlap lies in ``config.overlap`` (or the closest of
    ``max_tries`` is kept). Occluders drawn for one view are in that view's depth only, so the
    depth consistency check of the supervision rejects the points they hide.
    """
    config = PairConfig() if config is None else config
    config.validate()
    scene = make_scene(seed, scene_config) if scene is None else scene
    rng = np.random.default_rng([seed, 1])
    K = default_intrinsics(config.width, config.height, config.hfov_deg)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    low, high = config.overlap
    for _ in range(config.max_tries):
        T0 = sample_camera(scene, rng, K, config.min_depth)
        centre_depth = float(scene.depth_only(T0, K.scaled(0.125, 0.125))[K.height // 16, K.width // 16])
        target = T0[:3, :3] @ np.array([0.0, 0.0, max(centre_depth, 0.5)]) + T0[:3, 3]
        T1 = None
        for _ in range(10):
            direction = rng.normal(size=3)
            direction[2] *= 0.3
            direction /= np.linalg.norm(direction)
            position = T0[:3, 3] + direction * rng.uniform(*config.baseline)
            if scene.is_free(position):
                aim = target + rng.normal(0.0, config.target_jitter, size=3)
                candidate = look_at(position, aim, roll=rng.normal(0.0, config.roll_std))
                if _view_ok(scene, candidate, K, config.min_depth):
                    T1 = candidate
                    break
        if T1 is None:
            continue
        overlap = _overlap(scene, T0, T1, K)
        distance = max(low - overlap, overlap - high, 0.0)
        if best is None or distance < max(low - best[0], best[0] - high, 0.0):
            best = (overlap, T0, T1)
        if distance == 0.0:
            break
    if best is None:
        msg = f"could not place two cameras in scene {scene.seed}; relax PairConfig.min_depth or baseline"
        raise ConfigError(msg)
    overlap, T0, T1 = best
    return render_pair(scene, rng, (T0, T1), K, seed, overlap, config.occluder_prob, config.nuisances)


def render_pair(
    scene: Scene,
    rng: np.random.Generator,
    poses: tuple[np.ndarray, np.ndarray],
    K: CameraIntrinsics,
    seed: int,
    overlap: float,
    occluder_prob: float,
    nuisances: bool,
) -> PairSample:
    """Both views of a placed camera pair, each with its own occluders and (seeded) nuisances."""
    T0, T1 = poses
    extra0 = _occluders(scene, rng, T0, occluder_prob)
    extra1 = _occluders(scene, rng, T1, occluder_prob)
    nseed = [seed * 4 + 2, seed * 4 + 3] if nuisances else [None, None]
    view0 = scene.render(T0, K, nuisance_seed=nseed[0], extra=extra0)
    view1 = scene.render(T1, K, nuisance_seed=nseed[1], extra=extra1)
    T_0to1 = relative_pose(T0, T1)
    return PairSample(view0, view1, T_0to1, np.linalg.inv(T_0to1), overlap, seed)


@dataclass(frozen=True)
class HomographyConfig:
    """How :func:`sample_homography_pair` crops and warps a photo into two views."""

    width: int = 320  # image width, pixels
    height: int = 240  # image height, pixels
    crop_scale: tuple[float, float] = (0.4, 0.9)  # view 0's width as a share of the largest fitting crop
    rotation: float = 0.5  # max in-plane rotation between the views, radians
    scale: tuple[float, float] = (0.7, 1.4)  # zoom of view 1 relative to view 0
    perspective: float = 0.12  # max corner displacement, as a share of the view's size
    max_tries: int = 50  # draws before falling back to a milder warp
    nuisances: bool = True  # apply the photometric nuisances below to each view
    nuisance: NuisanceConfig = field(default_factory=NuisanceConfig)  # exposure, blur, noise ranges
    extra_texture_dir: str | None = None  # folder of extra photos; None = skimage's only
    max_photo_side: int = 1024  # photos are downscaled to this longest side when loaded

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        if not 0.0 < self.crop_scale[0] <= self.crop_scale[1] <= 1.0:
            msg = f"HomographyConfig.crop_scale must be 0 < low <= high <= 1, got {self.crop_scale}"
            raise ConfigError(msg)
        if not 0.0 < self.scale[0] <= self.scale[1]:
            msg = f"HomographyConfig.scale must be 0 < low <= high, got {self.scale}"
            raise ConfigError(msg)
        if self.rotation < 0 or not 0.0 <= self.perspective < 0.5:
            msg = "HomographyConfig.rotation must be >= 0 and perspective in [0, 0.5)"
            raise ConfigError(msg)
        default_intrinsics(self.width, self.height)
        self.nuisance.validate()


def _view_corners(width: int, height: int) -> np.ndarray:
    return np.array([[0.0, 0.0], [width - 1.0, 0.0], [width - 1.0, height - 1.0], [0.0, height - 1.0]])


def _convex_inside(quad: np.ndarray, pw: int, ph: int) -> bool:
    if quad.min() < 0.0 or np.any(quad[:, 0] > pw - 1) or np.any(quad[:, 1] > ph - 1):
        return False
    edges = np.roll(quad, -1, axis=0) - quad
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    return bool(np.all(cross > 0) or np.all(cross < 0))


def _warp_photo(photo: torch.Tensor, H_photo_view: np.ndarray, width: int, height: int) -> torch.Tensor:
    """(3, height, width) view of a (3, Hp, Wp) photo, with a box prefilter against aliasing."""
    # average zoom-out of the view relative to the photo, from the Jacobian at the view centre
    centre = np.array([(width - 1) / 2, (height - 1) / 2, 1.0])
    p = H_photo_view @ centre
    J = (H_photo_view[:2, :2] * p[2] - np.outer(p[:2], H_photo_view[2, :2])) / p[2] ** 2
    zoom = math.sqrt(abs(np.linalg.det(J)))
    H = H_photo_view
    if zoom > 1.25:  # shrink the photo first (area average), and the homography with it
        factor = math.floor(zoom)
        photo = F.avg_pool2d(photo[None], factor, ceil_mode=False)[0]
        S = np.array(
            [[1.0 / factor, 0.0, 0.5 / factor - 0.5], [0.0, 1.0 / factor, 0.5 / factor - 0.5], [0, 0, 1]]
        )
        H = S @ H_photo_view
    ph, pw = photo.shape[1:]
    ys, xs = np.meshgrid(
        np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij"
    )
    pts = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=0)
    q = H @ pts
    gx = (q[0] / q[2] + 0.5) / pw * 2.0 - 1.0
    gy = (q[1] / q[2] + 0.5) / ph * 2.0 - 1.0
    grid = torch.from_numpy(np.stack([gx, gy], axis=-1).reshape(1, height, width, 2)).float()
    return F.grid_sample(photo[None], grid, mode="bilinear", padding_mode="border", align_corners=False)[0]


def sample_homography_pair(seed: int, config: HomographyConfig | None = None) -> PairSample:
    """Two views of one real photo related by an exact homography ``H_0to1`` (no depth, no pose).

    Both views lie entirely inside the photo, so every pixel of both is a valid photo pixel. Depth
    is all 0 (unknown), poses are identity and the intrinsics are nominal (60 degree field of view).
    """
    import cv2

    config = HomographyConfig() if config is None else config
    config.validate()
    rng = np.random.default_rng([seed, 2])
    photos = load_photos(config.extra_texture_dir, config.max_photo_side)
    photo_np = photos[int(rng.integers(len(photos)))]
    ph, pw = photo_np.shape[:2]
    w, h = config.width, config.height
    corners = _view_corners(w, h)
    fit = min(pw / w, ph / h)  # photo pixels per view pixel of the largest axis-aligned crop
    quads = None
    for attempt in range(config.max_tries):
        mild = 0.3 if attempt >= config.max_tries // 2 else 1.0  # later tries warp less
        s0 = fit * rng.uniform(*config.crop_scale)
        c0 = np.array(
            [rng.uniform(0.5 * w * s0, pw - 0.5 * w * s0), rng.uniform(0.5 * h * s0, ph - 0.5 * h * s0)]
        )
        q0 = (corners - corners.mean(0)) * s0 + c0
        q0 = q0 + rng.uniform(-1, 1, size=(4, 2)) * config.perspective * mild * np.array([w, h]) * s0
        angle = rng.uniform(-config.rotation, config.rotation) * mild
        zoom = math.exp(rng.uniform(math.log(config.scale[0]), math.log(config.scale[1])) * mild)
        R = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        centre1 = q0.mean(0) + rng.normal(0.0, 0.1, size=2) * np.array([w, h]) * s0 * mild
        q1 = (q0 - q0.mean(0)) @ R.T / zoom + centre1
        q1 = q1 + rng.uniform(-1, 1, size=(4, 2)) * config.perspective * mild * np.array([w, h]) * s0 / zoom
        if _convex_inside(q0, pw, ph) and _convex_inside(q1, pw, ph):
            quads = (q0, q1)
            break
    if quads is None:  # fall back to two plain crops of the photo's centre
        centre = np.array([(pw - 1) / 2, (ph - 1) / 2])
        quads = (
            (corners - corners.mean(0)) * fit * 0.6 + centre,
            (corners - corners.mean(0)) * fit * 0.5 + centre,
        )
    H_p0 = cv2.getPerspectiveTransform(corners.astype(np.float32), quads[0].astype(np.float32)).astype(
        np.float64
    )
    H_p1 = cv2.getPerspectiveTransform(corners.astype(np.float32), quads[1].astype(np.float32)).astype(
        np.float64
    )
    H_0to1 = np.linalg.inv(H_p1) @ H_p0
    H_0to1 /= H_0to1[2, 2]
    photo = torch.from_numpy(photo_np).permute(2, 0, 1).float() / 255.0
    K = default_intrinsics(w, h)
    views = []
    for index, H_pv in enumerate((H_p0, H_p1)):
        colour = _warp_photo(photo, H_pv, w, h)
        if config.nuisances:
            colour = apply_nuisances(colour, config.nuisance, seed * 4 + index)
        image = (colour.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
        views.append(RenderedView(image, np.zeros((h, w), np.float32), K, np.eye(4)))
    return PairSample(views[0], views[1], np.eye(4), np.eye(4), 1.0, seed, H_0to1=H_0to1)


@dataclass
class Sequence:
    """A camera moving smoothly through a room: keyframes to map, queries to localize."""

    scene: Scene
    keyframes: list[RenderedView]
    queries: list[RenderedView]
    keyframe_indices: list[int]  # frame index of each keyframe along the trajectory
    query_indices: list[int]  # frame index of each query


def trajectory(scene: Scene, n_frames: int, rng: np.random.Generator, loops: float = 1.0) -> list[np.ndarray]:
    """Smooth ``T_world_camera`` poses along an ellipse in the free middle of the room, looking ahead.

    The ellipse shrinks until every position is clear of boxes and panels.
    """
    sx, sy, sz = scene.size
    m = scene.config.camera_margin
    phase = rng.uniform(0, 2 * math.pi)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    height = min(1.5, sz - 0.6)
    thetas = phase + direction * np.linspace(0.0, 2 * math.pi * loops, n_frames, endpoint=False)
    for fraction in (0.8, 0.6, 0.4, 0.2, 0.0):
        rx, ry = fraction * (sx / 2 - m), fraction * (sy / 2 - m)
        rx, ry = max(rx, 0.05), max(ry, 0.05)
        positions = [
            np.array([sx / 2 + rx * math.cos(t), sy / 2 + ry * math.sin(t), height + 0.1 * math.sin(2 * t)])
            for t in thetas
        ]
        if all(scene.is_free(p, clearance=0.3) for p in positions):
            break
    poses = []
    for t, position in zip(thetas, positions, strict=True):
        # heading along the tangent, turned a little outwards so the walls fill the view
        tangent = np.array([-rx * math.sin(t), ry * math.cos(t)]) * direction
        yaw = math.atan2(tangent[1], tangent[0]) - direction * 0.5
        pitch = -0.1 + 0.08 * math.sin(3 * t)
        forward = np.array(
            [math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), math.sin(pitch)]
        )
        poses.append(look_at(position, position + forward, roll=0.03 * math.sin(5 * t)))
    return poses


def _jitter(scene: Scene, rng: np.random.Generator, T: np.ndarray, position_std: float, rotation_std: float):
    """``T`` moved by a random offset and small rotation, keeping the camera in free space."""
    if position_std == 0.0 and rotation_std == 0.0:
        return T
    import cv2

    for _ in range(20):
        offset = rng.normal(0.0, position_std, size=3)
        rvec = rng.normal(0.0, rotation_std, size=3)
        if scene.is_free(T[:3, 3] + offset, clearance=0.3):
            out = T.copy()
            out[:3, :3] = T[:3, :3] @ cv2.Rodrigues(rvec)[0]
            out[:3, 3] = T[:3, 3] + offset
            return out
    return T


def make_sequence(
    seed: int,
    n_frames: int = 60,
    keyframe_every: int = 5,
    config: PairConfig | None = None,
    scene_config: SceneConfig | None = None,
    query_position_jitter: float = 0.0,
    query_rotation_jitter: float = 0.0,
) -> Sequence:
    """A loop through a random room; every ``keyframe_every``-th frame is a keyframe, the rest queries.

    Image size, field of view, nuisances and occluders come from ``config`` (a :class:`PairConfig`);
    occluders appear in queries only, as people walking past the camera would. Queries can leave the
    keyframes' path: each is displaced by a random offset (std ``query_position_jitter`` metres per
    axis) and rotated by a random small rotation (std ``query_rotation_jitter`` radians per axis).
    """
    config = PairConfig() if config is None else config
    config.validate()
    if query_position_jitter < 0 or query_rotation_jitter < 0:
        msg = "make_sequence needs query_position_jitter >= 0 and query_rotation_jitter >= 0"
        raise ConfigError(msg)
    if n_frames < 2 or keyframe_every < 1:
        msg = f"make_sequence needs n_frames >= 2 and keyframe_every >= 1, got {n_frames}, {keyframe_every}"
        raise ConfigError(msg)
    scene = make_scene(seed, scene_config)
    rng = np.random.default_rng([seed, 3])
    K = default_intrinsics(config.width, config.height, config.hfov_deg)
    poses = trajectory(scene, n_frames, rng)
    keyframes, queries, key_idx, query_idx = [], [], [], []
    for index, T in enumerate(poses):
        nseed = seed * 100_003 + index if config.nuisances else None
        if index % keyframe_every == 0:
            keyframes.append(scene.render(T, K, nuisance_seed=nseed))
            key_idx.append(index)
        else:
            T = _jitter(scene, rng, T, query_position_jitter, query_rotation_jitter)
            extra = _occluders(scene, rng, T, config.occluder_prob)
            queries.append(scene.render(T, K, nuisance_seed=nseed, extra=extra))
            query_idx.append(index)
    return Sequence(scene, keyframes, queries, key_idx, query_idx)
