"""Known-geometry fixtures for the localization tests: a point world, cameras, a fake matcher."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loftr_ros.localization.types import CameraIntrinsics, Keyframe
from loftr_ros.transforms import invert_transform, so3_exp

INTRINSICS = CameraIntrinsics(width=640, height=480, fx=500.0, fy=500.0, cx=319.5, cy=239.5)


def look_at(position: np.ndarray, target: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """T_map_camera of an optical-frame camera at ``position`` looking at ``target`` (map z up)."""
    up = np.array([0.0, 0.0, 1.0]) if up is None else up
    z = target - position
    z = z / np.linalg.norm(z)
    x = np.cross(z, up)
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], axis=1)
    T[:3, 3] = position
    return T


def perturb(T: np.ndarray, rng: np.random.Generator, trans: float, rot_deg: float) -> np.ndarray:
    out = T.copy()
    out[:3, 3] += rng.normal(0, trans, 3)
    out[:3, :3] = so3_exp(rng.normal(0, np.deg2rad(rot_deg), 3)) @ T[:3, :3]
    return out


def project(T_map_camera: np.ndarray, X: np.ndarray, K: CameraIntrinsics = INTRINSICS) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (N, 2), visible (N,) bool: in front and inside the image)."""
    Xc = X @ invert_transform(T_map_camera)[:3, :3].T + invert_transform(T_map_camera)[:3, 3]
    z = Xc[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = np.stack([K.fx * Xc[:, 0] / z + K.cx, K.fy * Xc[:, 1] / z + K.cy], axis=1)
    vis = (z > 0.1) & (uv[:, 0] >= 0) & (uv[:, 0] <= K.width - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= K.height - 1)
    return uv, vis


def world_points(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    """Points on the walls of a 10 x 10 x 3 m room centred at the origin (z up)."""
    side = rng.integers(0, 4, n)
    s = rng.uniform(-5, 5, n)
    h = rng.uniform(0, 3, n)
    X = np.zeros((n, 3))
    X[side == 0] = np.stack([s, np.full(n, 5.0), h], 1)[side == 0]
    X[side == 1] = np.stack([s, np.full(n, -5.0), h], 1)[side == 1]
    X[side == 2] = np.stack([np.full(n, 5.0), s, h], 1)[side == 2]
    X[side == 3] = np.stack([np.full(n, -5.0), s, h], 1)[side == 3]
    return X


def image_for(index: int, K: CameraIntrinsics = INTRINSICS) -> np.ndarray:
    """A uint8 image whose first pixels encode ``index`` so the fake matcher can tell images apart."""
    img = np.zeros((K.height, K.width, 3), np.uint8)
    img[0, 0] = [index % 256, (index // 256) % 256, 7]
    return img


def image_index(image: np.ndarray) -> int:
    return int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])


def depth_image(T_map_camera: np.ndarray, X: np.ndarray, K: CameraIntrinsics = INTRINSICS) -> np.ndarray:
    """A depth map of the room's walls seen from a camera (exact, by ray casting the four planes)."""
    u, v = np.meshgrid(np.arange(K.width), np.arange(K.height))
    rays = np.stack([(u - K.cx) / K.fx, (v - K.cy) / K.fy, np.ones_like(u, float)], -1)  # camera frame, z=1
    R, c = T_map_camera[:3, :3], T_map_camera[:3, 3]
    d = rays @ R.T  # map-frame direction per unit z
    best = np.full(d.shape[:2], np.inf)
    for axis, value in ((1, 5.0), (1, -5.0), (0, 5.0), (0, -5.0)):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (value - c[axis]) / d[..., axis]
        t[~np.isfinite(t) | (t <= 0)] = np.inf
        best = np.minimum(best, t)
    depth = best.astype(np.float32)
    depth[~np.isfinite(depth)] = 0
    return depth


@dataclass
class FakePairMatches:
    keypoints0: np.ndarray
    keypoints1: np.ndarray
    confidence: np.ndarray


def pair_with_outliers(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, outlier_ratio: float, intrinsics: CameraIntrinsics
) -> FakePairMatches:
    """Correspondences a <-> b with ``outlier_ratio`` of the b side replaced by random pixels."""
    b = b.copy()
    n_out = int(outlier_ratio * len(a))
    if n_out:
        pick = rng.choice(len(a), n_out, replace=False)
        b[pick] = rng.uniform([0, 0], [intrinsics.width - 1, intrinsics.height - 1], (n_out, 2))
    return FakePairMatches(a.astype(np.float32), b.astype(np.float32), np.ones(len(a), np.float32))


class ThumbnailRetrieval:
    """The tiny-image descriptor, as SIFT/ORB retrieve: for fake matchers."""

    descriptor_source = "thumbnail-32x24"

    def describe(self, image: np.ndarray) -> np.ndarray:
        from loftr_ros.localization.retrieval import thumbnail_descriptor

        return thumbnail_descriptor(image)

    def feature_bytes(self, features: object) -> int:
        return 64


class FakeMatcher(ThumbnailRetrieval):
    """Returns ground-truth correspondences between images of the synthetic world, plus noise and outliers.

    Images are told apart by :func:`image_index`; ``poses[index]`` is the camera of each image.
    """

    fingerprint = "fake-matcher-v1"

    def __init__(
        self,
        X: np.ndarray,
        poses: dict[int, np.ndarray],
        noise_px: float = 0.5,
        outlier_ratio: float = 0.2,
        seed: int = 0,
        noisy_query: bool = False,  # noise on the query side: query pixels then differ per keyframe
    ) -> None:
        self.X, self.poses = X, poses
        self.noisy_query = noisy_query
        self.noise_px, self.outlier_ratio = noise_px, outlier_ratio
        self.rng = np.random.default_rng(seed)
        self.extract_calls = 0
        self.matched: list[int] = []  # keyframes per match call

    def extract(self, image: np.ndarray) -> dict:
        self.extract_calls += 1
        return {"index": np.array([image_index(image)], np.int64)}

    def match(self, query_image: np.ndarray, keyframes: list[dict]) -> list[FakePairMatches]:
        q = image_index(query_image)
        self.matched.append(len(keyframes))
        out = []
        for feats in keyframes:
            k = int(feats["index"][0])
            uq, vq = project(self.poses[q], self.X)
            uk, vk = project(self.poses[k], self.X)
            both = vq & vk
            # as LoFTR: query pixels are the same for every keyframe, the keyframe side carries the noise
            a, b = uq[both], uk[both]
            if self.noisy_query:
                a = a + self.rng.normal(0, self.noise_px, a.shape)
            else:
                b = b + self.rng.normal(0, self.noise_px, b.shape)
            out.append(pair_with_outliers(a, b, self.rng, self.outlier_ratio, INTRINSICS))
        return out


def make_keyframe(
    index: int, T: np.ndarray, X: np.ndarray, with_depth: bool, descriptor: np.ndarray | None = None
) -> Keyframe:
    return Keyframe(
        id=f"kf{index:04d}", stamp_ns=index * 10**9, frame_id="map", image=image_for(index),
        intrinsics=INTRINSICS,
        T_map_camera=T, depth=depth_image(T, X) if with_depth else None, descriptor=descriptor,
    )  # fmt: skip
