"""The Localizer end to end with a fake matcher that returns ground-truth correspondences."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from localization.scene import INTRINSICS, FakeMatcher, image_for, look_at, make_keyframe, world_points
from loftr_ros.errors import ConfigError, LocalizationError
from loftr_ros.localization.config import LocalizerConfig, QualityGates, RetrievalConfig
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe, LocalizationState, Matcher
from loftr_ros.transforms import pose_error

TARGET = np.array([5.0, 5.0, 1.3])  # a corner of the room, so relative poses are well posed


@pytest.fixture(scope="module")
def world() -> dict:
    rng = np.random.default_rng(0)
    X = world_points(rng)
    poses = {
        0: look_at(np.array([0.0, 0.0, 1.4]), TARGET),  # the query
        1: look_at(np.array([-0.8, 0.3, 1.5]), TARGET),
        2: look_at(np.array([0.6, -0.7, 1.3]), TARGET),
        3: look_at(np.array([-3.0, -3.0, 1.5]), np.array([-5.0, 5.0, 1.0])),  # sees other walls
    }
    return {"X": X, "poses": poses}


def _localizer(world: dict, with_depth: bool, keyframes=(1, 2), store: KeyframeStore | None = None, **kw) -> tuple:
    matcher = FakeMatcher(world["X"], world["poses"], **kw)
    kfs = [make_keyframe(i, world["poses"][i], world["X"], with_depth) for i in keyframes]
    config = LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=False)  # every keyframe: the solvers' tests
    if store is not None:
        for kf in kfs:
            store.add(kf)
        return Localizer(store, matcher, config), matcher
    return Localizer(kfs, matcher, config), matcher


def test_fake_matcher_fits_the_protocol(world: dict) -> None:
    assert isinstance(FakeMatcher(world["X"], world["poses"]), Matcher)


def test_depth_keyframes_give_millimetre_and_sub_degree_accuracy(world: dict) -> None:
    localizer, _ = _localizer(world, with_depth=True, noise_px=0.5, outlier_ratio=0.3)
    result = localizer.localize(image_for(0), INTRINSICS, 123)
    assert result.state is LocalizationState.LOCALIZED, result.reason
    dt, dr = pose_error(result.T_map_camera, world["poses"][0])
    assert dt < 0.005 and dr < 0.1, (dt, dr)
    assert result.reason == "" and set(result.keyframe_ids) == {"kf0001", "kf0002"}
    assert result.num_inliers == sum(m.num_inliers for m in result.matches)
    assert 0.6 < result.num_inliers / result.num_matches < 0.75  # 30 % outliers rejected
    assert list(result.timings) == ["retrieve", "match", "pose"]
    assert result.covariance.shape == (6, 6)
    # the predicted 1-sigma position is millimetric too
    assert np.sqrt(np.trace(result.covariance[:3, :3])) < 0.005


def test_without_depth_two_keyframes_triangulate_the_scene(world: dict) -> None:
    """Query pixels matched in two posed keyframes are triangulated, then solved as an absolute pose."""
    localizer, _ = _localizer(world, with_depth=False, noise_px=0.3, outlier_ratio=0.2)
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.state is LocalizationState.LOCALIZED, result.reason
    dt, dr = pose_error(result.T_map_camera, world["poses"][0])
    assert dt < 0.01 and dr < 0.1, (dt, dr)
    assert result.covariance.shape == (6, 6) and np.isfinite(result.reprojection_rmse_px)


def test_without_shared_query_pixels_the_keyframe_rays_are_intersected(world: dict) -> None:
    localizer, _ = _localizer(world, with_depth=False, noise_px=0.3, outlier_ratio=0.2, noisy_query=True)
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.state is LocalizationState.LOCALIZED, result.reason
    dt, dr = pose_error(result.T_map_camera, world["poses"][0])
    assert dt < 0.05 and dr < 0.5, (dt, dr)
    assert result.covariance is None  # no reprojection residuals on this path


def test_without_depth_a_query_between_its_keyframes_is_still_metric() -> None:
    """Collinear keyframes and query: camera rays cannot fix the scale, triangulated points can."""
    rng = np.random.default_rng(5)
    X = world_points(rng)
    target = np.array([5.0, 5.0, 1.3])
    poses = {0: look_at(np.array([0.0, 0.0, 1.4]), target)}
    poses[1] = look_at(np.array([-0.6, 0.6, 1.4]), target)
    poses[2] = look_at(np.array([0.6, -0.6, 1.4]), target)
    kfs = [make_keyframe(i, poses[i], X, with_depth=False) for i in (1, 2)]
    localizer = Localizer(kfs, FakeMatcher(X, poses, noise_px=0.3), LocalizerConfig(retrieval=RetrievalConfig(top_k=2)))
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.localized, result.reason
    dt, dr = pose_error(result.T_map_camera, poses[0])
    assert dt < 0.01 and dr < 0.1, (dt, dr)
    rays = Localizer(kfs, FakeMatcher(X, poses, noise_px=0.3, noisy_query=True), localizer.config)
    assert not rays.localize(image_for(0), INTRINSICS, 1).localized  # rays alone: ill-posed


def test_without_depth_one_keyframe_is_not_enough(world: dict) -> None:
    localizer, _ = _localizer(world, with_depth=False, keyframes=(1,))
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.state is LocalizationState.NOT_LOCALIZED
    assert "two posed keyframes are needed" in result.reason and result.T_map_camera is None


def test_gates_give_their_reasons(world: dict) -> None:
    localizer, _ = _localizer(world, with_depth=True, outlier_ratio=0.2)
    base = localizer.config
    cases = {
        "too few matches": QualityGates(min_matches=100_000),
        "too few inliers": QualityGates(min_inliers=100_000),
        "low inlier ratio": QualityGates(min_inlier_ratio=0.95),
        "high reprojection RMSE": QualityGates(max_rmse_px=0.01),
    }
    for reason, gates in cases.items():
        localizer.config = replace(base, gates=gates)
        result = localizer.localize(image_for(0), INTRINSICS, 1)
        assert result.state is LocalizationState.NOT_LOCALIZED and result.reason.startswith(reason), result.reason
        assert result.T_map_camera is None
    localizer.config = base
    far = world["poses"][0].copy()
    far[:3, 3] += [0.0, 0.0, 3.0]
    localizer.config = replace(base, retrieval=RetrievalConfig(top_k=2, prior_max_distance_m=10))
    result = localizer.localize(image_for(0), INTRINSICS, 1, prior=far)
    assert result.reason.startswith("jump from prior"), result.reason
    near = world["poses"][0].copy()
    near[:3, 3] += [0.1, 0.0, 0.0]
    assert localizer.localize(image_for(0), INTRINSICS, 1, prior=near).localized


def test_bad_input_is_rejected_and_an_empty_map_has_no_keyframes(world: dict) -> None:
    localizer, _ = _localizer(world, with_depth=True)
    small = CameraIntrinsics(320, 240, 250, 250, 159.5, 119.5)
    result = localizer.localize(image_for(0), small, 1)
    assert result.state is LocalizationState.REJECTED and "intrinsics say 320x240" in result.reason
    assert localizer.localize(image_for(0).astype(np.float32), INTRINSICS, 1).state is LocalizationState.REJECTED
    empty = Localizer([], FakeMatcher(world["X"], world["poses"]))
    result = empty.localize(image_for(0), INTRINSICS, 1)
    assert result.state is LocalizationState.NO_KEYFRAMES and "no keyframes" in result.reason


def test_retrieval_by_descriptor_picks_the_right_keyframes(world: dict) -> None:
    """With a describer, the keyframe that sees other walls is never matched."""
    descriptors = {0: [1.0, 0.1, 0], 1: [1.0, 0.0, 0.1], 2: [0.9, 0.1, 0.0], 3: [0.0, 0.0, 1.0]}
    matcher = FakeMatcher(world["X"], world["poses"])
    from localization.scene import image_index

    class Described(FakeMatcher):
        descriptor_source = "by-hand"

        def describe(self, image: np.ndarray) -> np.ndarray:
            return np.array(descriptors[image_index(image)], np.float32)

    matcher = Described(world["X"], world["poses"])
    kfs = [make_keyframe(i, world["poses"][i], world["X"], True) for i in (1, 2, 3)]
    localizer = Localizer(kfs, matcher, LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=False))
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.localized and set(result.keyframe_ids) == {"kf0001", "kf0002"}
    assert localizer.remove_keyframe("kf0001") and len(localizer) == 2


def test_features_are_cached_in_memory(world: dict, tmp_path: Path) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        localizer, matcher = _localizer(world, with_depth=True, store=store)
        assert localizer.localize(image_for(0), INTRINSICS, 1).localized
        assert localizer.localize(image_for(0), INTRINSICS, 2).localized
        assert matcher.extract_calls == 2  # once per keyframe, not per query
        localizer.add_keyframe(make_keyframe(3, world["poses"][3], world["X"], True))
        assert "kf0003" in store and len(localizer) == 3
        assert localizer.clear() == 3 and len(store) == 0
        assert store._db.execute("SELECT count(*) FROM pixels").fetchone()[0] == 0


def test_save_clear_and_reconfigure(world: dict, tmp_path: Path) -> None:
    localizer, _ = _localizer(world, with_depth=True)
    assert localizer.save(tmp_path / "saved.db") == 2
    with KeyframeStore(tmp_path / "saved.db", readonly=True) as store:
        assert store.ids() == ["kf0001", "kf0002"] and store.get("kf0001").depth is not None
        assert store.descriptor_source == localizer.descriptor_source != ""
        reopened = Localizer(store, FakeMatcher(world["X"], world["poses"]), localizer.config)
        assert reopened.localize(image_for(0), INTRINSICS, 1).localized
    with KeyframeStore(tmp_path / "saved.db") as store:  # a store-backed map copies with SQLite's backup
        backed = Localizer(store, FakeMatcher(world["X"], world["poses"]), localizer.config)
        assert backed.localize(image_for(0), INTRINSICS, 1).localized  # caches features in the file
        assert backed.save(tmp_path / "copy.db") == 2
        assert backed.save(tmp_path / "saved.db") == 2  # its own file: nothing to do
    with KeyframeStore(tmp_path / "copy.db") as copy:
        assert copy.ids() == ["kf0001", "kf0002"]
    localizer.reconfigure(replace(localizer.config, gates=QualityGates(min_inliers=100_000)))
    assert localizer.localize(image_for(0), INTRINSICS, 1).reason.startswith("too few inliers")
    with pytest.raises(ConfigError, match="top_k"):
        localizer.reconfigure(replace(localizer.config, retrieval=RetrievalConfig(top_k=0)))
    assert localizer.clear() == 2 and len(localizer) == 0
    assert localizer.localize(image_for(0), INTRINSICS, 1).state is LocalizationState.NO_KEYFRAMES
    with pytest.raises(LocalizationError, match="no keyframe 'kf0001'"):
        localizer.keyframe("kf0001")


def test_a_map_saved_without_descriptors_gets_them_on_open(tmp_path: Path) -> None:
    from loftr_ros.localization.retrieval import thumbnail_descriptor

    rng = np.random.default_rng(5)
    intrinsics = CameraIntrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)
    with KeyframeStore(tmp_path / "map.db") as store:
        for i in range(4):
            image = rng.integers(0, 256, (48, 64), dtype=np.uint8)
            store.add(Keyframe(f"kf{i}", i, "map", image, intrinsics, np.eye(4)))
    with KeyframeStore(tmp_path / "map.db") as store:
        localizer = Localizer(store, _CountingDescriber("thumbnail-32x24"))
        _, _, has_descriptor, _ = store.index_data()
        assert len(localizer) == 4 and has_descriptor.all()
        expected = thumbnail_descriptor(store.get("kf2").image)
        np.testing.assert_allclose(store.info("kf2").descriptor, expected / np.linalg.norm(expected), atol=1e-5)


class _CountingDescriber:
    """A matcher that only describes: the thumbnail, scaled per source so that sources give different vectors."""

    fingerprint = "counting"

    def __init__(self, source: str, sign: float = 1.0) -> None:
        from loftr_ros.localization.retrieval import thumbnail_descriptor

        self.descriptor_source, self.sign, self.calls = source, sign, 0
        self._thumbnail = thumbnail_descriptor

    def describe(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.sign * self._thumbnail(image)

    def extract(self, image: np.ndarray) -> None:
        raise AssertionError("not matched in these tests")

    def feature_bytes(self, features: object) -> int:
        return 0

    def match(self, query_image: np.ndarray, keyframes: list) -> list:
        raise AssertionError("not matched in these tests")


def test_stored_descriptors_from_another_source_are_recomputed(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    intrinsics = CameraIntrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)
    path = tmp_path / "map.db"
    with KeyframeStore(path) as store:
        first = _CountingDescriber("a")
        localizer = Localizer(store, first)
        for i in range(3):
            image = rng.integers(0, 256, (48, 64), dtype=np.uint8)
            localizer.add_keyframe(Keyframe(f"kf{i}", i, "map", image, intrinsics, np.eye(4)))
        assert first.calls == 3 and store.descriptor_source == "a"
    with KeyframeStore(path, readonly=True) as store:
        other = _CountingDescriber("b", sign=-1.0)
        Localizer(store, other)
        assert other.calls == 3  # used in memory; the read-only file keeps its own
        assert store.descriptor_source == "a"
    with KeyframeStore(path) as store:
        unnamed = _CountingDescriber("", sign=-1.0)  # no source: stored descriptors are trusted
        Localizer(store, unnamed)
        assert unnamed.calls == 0
        assert first.calls == 3
        same = _CountingDescriber("a")
        Localizer(store, same)
        assert same.calls == 0
        other = _CountingDescriber("b", sign=-1.0)
        Localizer(store, other)
        assert other.calls == 3 and store.descriptor_source == "b"
        expected = other.describe(store.get("kf1").image)
        np.testing.assert_allclose(store.info("kf1").descriptor, expected / np.linalg.norm(expected), atol=1e-5)


def test_cascade_stops_at_the_first_keyframe_that_gives_a_pose_with_margin(world: dict) -> None:
    matcher = FakeMatcher(world["X"], world["poses"], noise_px=0.3)
    kfs = [make_keyframe(i, world["poses"][i], world["X"], True) for i in (1, 2)]
    localizer = Localizer(kfs, matcher, LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=True))
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.localized and len(result.keyframe_ids) == 1 and matcher.matched == [1]
    assert list(result.timings) == ["retrieve", "match", "pose"]
    # a margin no pose reaches: every retrieved keyframe is tried, one at a time, and the pose is kept
    config = LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=True, cascade_margin=100.0)
    strict = Localizer(kfs, matcher, config)
    matcher.matched.clear()
    result = strict.localize(image_for(0), INTRINSICS, 2)
    assert result.localized and len(result.keyframe_ids) == 2 and matcher.matched == [1, 1]


def test_cascade_goes_on_while_one_keyframe_cannot_give_a_metric_pose(world: dict) -> None:
    matcher = FakeMatcher(world["X"], world["poses"], noise_px=0.3)
    kfs = [make_keyframe(i, world["poses"][i], world["X"], False) for i in (1, 2)]  # no depth: two are needed
    localizer = Localizer(kfs, matcher, LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=True))
    result = localizer.localize(image_for(0), INTRINSICS, 1)
    assert result.localized, result.reason
    assert sorted(result.keyframe_ids) == ["kf0001", "kf0002"] and matcher.matched == [1, 1]


def test_feature_cache_is_bounded_in_bytes(world: dict) -> None:
    matcher = FakeMatcher(world["X"], world["poses"])  # 64 bytes of features per keyframe
    kfs = [make_keyframe(i, world["poses"][i], world["X"], True) for i in (1, 2)]
    config = LocalizerConfig(retrieval=RetrievalConfig(top_k=2), cascade=False, feature_cache_mb=100e-6)
    localizer = Localizer(kfs, matcher, config)
    localizer.localize(image_for(0), INTRINSICS, 1)
    assert localizer.map.feature_cache_bytes == 64  # room for one keyframe's features: the other was dropped
    localizer.localize(image_for(0), INTRINSICS, 2)
    assert matcher.extract_calls == 4
    localizer.reconfigure(replace(config, feature_cache_mb=1.0))
    localizer.localize(image_for(0), INTRINSICS, 3)
    localizer.localize(image_for(0), INTRINSICS, 4)
    assert matcher.extract_calls == 5 and localizer.map.feature_cache_bytes == 128
