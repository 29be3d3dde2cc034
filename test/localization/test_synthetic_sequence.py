"""End to end on a rendered synthetic sequence (``loftr_ros.synthetic``): a ground-truth matcher built from
the rendered depth, and SIFT through the same Localizer. Slow (rendering takes ~30 s on this CPU)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from localization.scene import FakePairMatches, ThumbnailRetrieval, pair_with_outliers
from loftr_ros.evaluation.synthetic_sequences import noisy_prior, sequence_keyframes
from loftr_ros.localization.config import LocalizerConfig, RetrievalConfig
from loftr_ros.localization.localizer import Localizer
from loftr_ros.transforms import invert_transform, pose_error

pytestmark = pytest.mark.slow


def _key(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


class DepthOracleMatcher(ThumbnailRetrieval):
    """Correspondences from rendered depth and poses: query grid pixels, projected into the keyframe,
    kept where the keyframe's depth agrees (not occluded); then keyframe-side pixel noise and outliers."""

    def __init__(self, views: list, noise_px: float = 0.5, outlier_ratio: float = 0.2, step: int = 6) -> None:
        self.views = {_key(v.image): v for v in views}
        self.noise_px, self.outlier_ratio, self.step = noise_px, outlier_ratio, step
        self.rng = np.random.default_rng(0)

    fingerprint = "depth-oracle"

    def extract(self, image: np.ndarray) -> str:
        return _key(image)

    def match(self, query_image: np.ndarray, keyframes: list[str]) -> list[FakePairMatches]:
        q = self.views[_key(query_image)]
        K = q.intrinsics
        v, u = np.mgrid[2 : K.height - 2 : self.step, 2 : K.width - 2 : self.step]
        u, v = u.ravel().astype(float), v.ravel().astype(float)
        z = q.depth[v.astype(int), u.astype(int)]
        ok = z > 0
        u, v, z = u[ok], v[ok], z[ok]
        Xc = np.stack([(u - K.cx) / K.fx * z, (v - K.cy) / K.fy * z, z], 1)
        Xw = Xc @ q.T_world_camera[:3, :3].T + q.T_world_camera[:3, 3]
        out = []
        for key in keyframes:
            k = self.views[key]
            T = invert_transform(k.T_world_camera)
            Xk = Xw @ T[:3, :3].T + T[:3, 3]
            zk = Xk[:, 2]
            with np.errstate(divide="ignore", invalid="ignore"):
                uk, vk = K.fx * Xk[:, 0] / zk + K.cx, K.fy * Xk[:, 1] / zk + K.cy
            vis = (zk > 0.1) & (uk >= 1) & (uk < K.width - 2) & (vk >= 1) & (vk < K.height - 2)
            idx = np.nonzero(vis)[0]
            seen = k.depth[np.rint(vk[idx]).astype(int), np.rint(uk[idx]).astype(int)]
            idx = idx[np.abs(seen - zk[idx]) < 0.02 * zk[idx]]  # not occluded in the keyframe
            # as LoFTR: query pixels on a fixed grid (the same for every keyframe), the keyframe side noisy
            a = np.stack([u[idx], v[idx]], 1)
            b = np.stack([uk[idx], vk[idx]], 1) + self.rng.normal(0, self.noise_px, (len(idx), 2))
            out.append(pair_with_outliers(a, b, self.rng, self.outlier_ratio, K))
        return out


@pytest.fixture(scope="module")
def sequence():
    synthetic = pytest.importorskip("loftr_ros.synthetic")
    return synthetic.make_sequence(0, n_frames=20, keyframe_every=4)


def _prior(T: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A rough prior, as odometry would give: 0.2 m and ~3 deg off."""
    return noisy_prior(T, rng, 0.2, 3.0)


def test_ground_truth_matches_localize_every_query_to_millimetres(sequence) -> None:
    matcher = DepthOracleMatcher(sequence.keyframes + sequence.queries)
    localizer = Localizer(sequence_keyframes(sequence), matcher, LocalizerConfig(retrieval=RetrievalConfig(top_k=2)))
    rng = np.random.default_rng(1)
    errors, failures = [], []
    for q in sequence.queries:
        result = localizer.localize(q.image, q.intrinsics, 0, prior=_prior(q.T_world_camera, rng))
        if not result.localized:  # 5 keyframes on a loop are 72 deg apart: a query can see none of them
            failures.append(result.reason)
            continue
        errors.append(pose_error(result.T_map_camera, q.T_world_camera))
    assert len(failures) <= 1 and all(f.startswith("too few matches") for f in failures), failures
    errors = np.array(errors)
    assert np.median(errors[:, 0]) < 0.003 and errors[:, 0].max() < 0.02, errors
    assert errors[:, 1].max() < 0.5, errors


def test_sift_through_the_same_localizer(sequence) -> None:
    from loftr_ros.tools.tum_keyframe_eval import OpenCVMatcher

    localizer = Localizer(
        sequence_keyframes(sequence), OpenCVMatcher("sift"), LocalizerConfig(retrieval=RetrievalConfig(top_k=2))
    )
    rng = np.random.default_rng(2)
    good = 0
    for q in sequence.queries:
        result = localizer.localize(q.image, q.intrinsics, 0, prior=_prior(q.T_world_camera, rng))
        if result.localized:
            dt, dr = pose_error(result.T_map_camera, q.T_world_camera)
            good += dt < 0.05 and dr < 2.0
    print(f"SIFT on the synthetic sequence: {good} of {len(sequence.queries)} within 5 cm and 2 deg")
    assert good >= len(sequence.queries) // 2


def test_sift_without_a_prior_uses_the_thumbnail_fallback(sequence) -> None:
    """No describer, no prior: keyframes are chosen by tiny-image descriptors (measured 7 of 15)."""
    from loftr_ros.tools.tum_keyframe_eval import OpenCVMatcher

    config = LocalizerConfig(retrieval=RetrievalConfig(top_k=2))
    localizer = Localizer(sequence_keyframes(sequence), OpenCVMatcher("sift"), config)
    good = 0
    for q in sequence.queries:
        result = localizer.localize(q.image, q.intrinsics, 0)
        if result.localized:
            dt, dr = pose_error(result.T_map_camera, q.T_world_camera)
            good += dt < 0.05 and dr < 2.0
    print(f"SIFT without prior (thumbnail retrieval): {good} of {len(sequence.queries)} within 5 cm and 2 deg")
    assert good >= 4
