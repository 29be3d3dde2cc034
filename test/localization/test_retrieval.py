"""Retrieval: GeM descriptors, cosine top-k, pose-prior gating, recall on a synthetic sequence, speed."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from loftr_ros.errors import LocalizationError
from loftr_ros.localization.config import RetrievalConfig
from loftr_ros.localization.retrieval import (
    RetrievalIndex,
    gem_descriptor,
    l2_normalise,
    recall_at_k,
    thumbnail_descriptor,
)
from loftr_ros.tools import benchmark_retrieval


def test_gem_descriptor_is_a_unit_vector_and_accepts_tensors() -> None:
    rng = np.random.default_rng(0)
    fmap = rng.normal(size=(256, 60, 80)).astype(np.float32)
    d = gem_descriptor(fmap)
    assert d.shape == (256,) and d.dtype == np.float32
    assert np.linalg.norm(d) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(gem_descriptor(torch.from_numpy(fmap)[None]), d, atol=1e-6)
    # p = 1 is average pooling of the clamped map
    pos = np.abs(fmap)
    np.testing.assert_allclose(gem_descriptor(pos, p=1.0), l2_normalise(pos.mean(axis=(1, 2))), rtol=1e-4)
    with pytest.raises(LocalizationError, match=r"\(C, H, W\)"):
        gem_descriptor(np.zeros((3, 4)))


def _poses(n: int) -> np.ndarray:
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, 0, 3] = np.arange(n)
    return T


def test_cosine_top_k_is_ranked_and_stable() -> None:
    rng = np.random.default_rng(1)
    desc = rng.normal(size=(500, 32)).astype(np.float32)
    index = RetrievalIndex(RetrievalConfig(top_k=4))
    index.build([f"k{i}" for i in range(500)], desc, _poses(500))
    got = index.query(desc[123] + 0.01 * rng.normal(size=32))
    assert got[0].id == "k123" and got[0].similarity > 0.99
    sims = [c.similarity for c in got]
    assert sims == sorted(sims, reverse=True) and len(got) == 4
    brute = np.argsort(-(l2_normalise(desc) @ l2_normalise(desc[123] + 0.0)))[:4]
    assert index.query(desc[123])[0].id == f"k{brute[0]}"


def test_add_remove_and_keyframes_without_descriptor() -> None:
    index = RetrievalIndex(RetrievalConfig(top_k=3, prior_max_distance_m=1.5))
    index.add("a", np.array([1.0, 0, 0]), _poses(3)[0])
    index.add("b", None, _poses(3)[1])
    index.add("c", np.array([0.0, 1, 0]), _poses(3)[2])
    assert [c.id for c in index.query(np.array([1.0, 0.1, 0]))] == ["a", "c"]  # "b" has no descriptor
    by_prior = index.query(prior=_poses(3)[1])  # no descriptor: nearest first, all within 1.5 m
    assert by_prior[0].id == "b" and by_prior[0].distance_m == 0.0 and {c.id for c in by_prior} == {"a", "b", "c"}
    assert index.remove("a") and not index.remove("a")
    assert [c.id for c in index.query(np.array([1.0, 0.1, 0]))] == ["c"]
    with pytest.raises(LocalizationError, match="has 4 dims, the index has 3"):
        index.add("d", np.ones(4), np.eye(4))
    with pytest.raises(LocalizationError, match="descriptor, a pose prior"):
        index.query()


def test_prior_gates_distance_and_viewing_direction() -> None:
    n = 50
    poses = _poses(n)
    poses[25:, :3, :3] = np.diag([-1.0, 1.0, -1.0])  # the second half looks the other way
    desc = np.ones((n, 8), np.float32)
    index = RetrievalIndex(RetrievalConfig(top_k=10, prior_max_distance_m=3.0, prior_max_angle_deg=45))
    index.build([f"k{i}" for i in range(n)], desc, poses)
    prior = np.eye(4)
    prior[0, 3] = 24.0
    got = {c.id for c in index.query(np.ones(8), prior=prior)}
    assert got == {"k21", "k22", "k23", "k24"}  # k25..k27 are near but face away
    prior[0, 3] = 1000.0
    assert index.query(np.ones(8), prior=prior) == []


def test_recall_at_k_counts_any_positive() -> None:
    db = np.eye(4, dtype=np.float32)
    q = np.array([[1.0, 0.2, 0, 0], [0, 0, 0.1, 1.0]], np.float32)
    assert recall_at_k(q, db, [[1], [3]], ks=(1, 2)) == {1: 0.5, 2: 1.0}


def test_recall_on_a_rendered_sequence() -> None:
    recall = benchmark_retrieval.synthetic_recall(thumbnail_descriptor, seeds=(0,), n_frames=24)
    assert recall[5] >= recall[3] >= recall[1] >= 0.3  # chance is about 0.15 (12 keyframes)


def test_benchmark_tool_runs(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    benchmark_retrieval.add_arguments(parser)
    assert benchmark_retrieval.run(parser.parse_args(["--keyframes", "20000", "--queries", "20", "--with-prior"])) == 0
    assert "among 20000 keyframes" in capsys.readouterr().out


def test_loftr_describes_with_gem_of_its_coarse_map_and_reuses_it_for_matching() -> None:
    from types import SimpleNamespace

    from loftr_ros.matchers import LoFTRLocalizationMatcher

    fmap = torch.rand(1, 16, 6, 8)
    extracted, matched = [], []
    inner = SimpleNamespace(
        extract=lambda image: extracted.append(image) or SimpleNamespace(coarse=fmap, blank=False),
        match=lambda query, keyframes: matched.append(query) or [],
        fingerprint="fp",
    )
    matcher = LoFTRLocalizationMatcher(inner)
    image = np.zeros((48, 64), np.uint8)
    np.testing.assert_allclose(matcher.describe(image), gem_descriptor(fmap[0]))
    matcher.match(image, [])
    matcher.match(image, [])  # a cascade's second step: the query's backbone pass is not repeated
    assert len(extracted) == 1 and all(q is not image for q in matched)
    assert matcher.descriptor_source == "loftr-gem3-fp"


def test_with_a_prior_keyframes_without_descriptor_rank_last() -> None:
    index = RetrievalIndex(RetrievalConfig(top_k=3, prior_max_distance_m=5))
    index.add("a", None, _poses(3)[0])
    index.add("b", np.array([1.0, 0.0]), _poses(3)[1])
    index.add("c", np.array([0.0, 1.0]), _poses(3)[2])
    got = index.query(np.array([0.1, 1.0]), prior=np.eye(4))
    assert [c.id for c in got] == ["c", "b", "a"] and np.isnan(got[2].similarity)


def test_thumbnail_descriptor_finds_the_nearby_view() -> None:
    """The SIFT/ORB fallback: a slightly shifted view of a keyframe is closest to that keyframe."""
    rng = np.random.default_rng(3)
    import cv2

    scenes = [cv2.GaussianBlur(rng.integers(0, 256, (480, 640), dtype=np.uint8), (31, 31), 0) for _ in range(20)]
    index = RetrievalIndex(RetrievalConfig(top_k=1))
    index.build([f"k{i}" for i in range(20)], np.stack([thumbnail_descriptor(s) for s in scenes]), _poses(20))
    for i in (0, 7, 19):
        shifted = np.roll(scenes[i], (12, -20), axis=(0, 1))
        assert index.query(thumbnail_descriptor(shifted))[0].id == f"k{i}"
    assert thumbnail_descriptor(np.zeros((48, 64, 3), np.uint8)).shape == (32 * 24,)
