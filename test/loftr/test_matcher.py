"""The localization API: inputs, pixel mapping through the resize, cached keyframes, k-batching, devices."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import torch

from loftr_ros.errors import ConfigError, InputImageError
from loftr_ros.loftr import KeyframeFeatures, LoFTR, Matcher, PairMatches, get_config
from loftr_ros.loftr.matcher import network_size, to_gray_float, to_input_pixels


@pytest.fixture(scope="module")
def model() -> LoFTR:
    """The narrow 'tiny' model: the same code path as the full one (tested against kornia), 50x cheaper."""
    torch.manual_seed(0)
    config = get_config("tiny")
    config.match_coarse.thr = 0.0  # random weights: keep every mutual nearest neighbour
    return LoFTR(config).eval()


def _assert_same(a: PairMatches, b: PairMatches, atol: float = 1e-3) -> None:
    assert len(a) == len(b)
    np.testing.assert_allclose(a.keypoints0, b.keypoints0, atol=atol)
    np.testing.assert_allclose(a.keypoints1, b.keypoints1, atol=atol)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)


def test_pair_matches_are_float32_in_input_pixels(model: LoFTR, textured_pair: Callable) -> None:
    image0, image1 = textured_pair(90, 125, 100, 130)  # not multiples of 8: padded and masked
    matches = Matcher(model=model, device="cpu", max_side=0).match_pair(image0, image1)
    assert len(matches) > 0
    assert matches.keypoints0.dtype == matches.keypoints1.dtype == matches.confidence.dtype == np.float32
    assert matches.keypoints0.shape == matches.keypoints1.shape == (len(matches), 2)
    # coarse cells of image 0 sit on pixels (8x, 8y), inside the unpadded image, off its 2-cell border
    assert np.all(matches.keypoints0 % 8 == 0)
    assert matches.keypoints0[:, 0].max() < 125 - 8 and matches.keypoints0[:, 1].max() < 90 - 8
    assert np.all(matches.keypoints0 >= 16)


def test_one_query_against_k_keyframes_equals_k_pair_calls(model: LoFTR, textured_pair: Callable) -> None:
    matcher = Matcher(model=model, device="cpu", max_side=0)
    query, kf0 = textured_pair(93, 125, 96, 128, seed=0)  # a padded (masked) query
    _, kf1 = textured_pair(93, 125, 96, 128, seed=1)
    _, kf2 = textured_pair(93, 125, 85, 110, seed=2)  # another size, padded: its own forward pass
    keyframes = [matcher.extract(im) for im in (kf0, kf1, kf2)]
    together = matcher.match(query, keyframes)
    assert len(together) == 3 and all(len(m) > 0 for m in together)
    for image, matches in zip((kf0, kf1, kf2), together, strict=True):
        _assert_same(matches, matcher.match_pair(query, image))


def test_cached_keyframes_skip_the_backbone(model: LoFTR, textured_pair: Callable, monkeypatch) -> None:
    matcher = Matcher(model=model, device="cpu", max_side=0)
    query, keyframe = textured_pair(96, 128)
    cached = [matcher.extract(keyframe)] * 3
    calls: list[tuple] = []
    original = model.backbone.forward
    monkeypatch.setattr(model.backbone, "forward", lambda x: calls.append(tuple(x.shape)) or original(x))
    matcher.match(query, cached)
    assert calls == [(1, 1, 96, 128)]  # the query only


def test_resizing_maps_keypoints_back_to_input_pixels(model: LoFTR, textured_pair: Callable) -> None:
    image0, image1 = (im.astype(np.float32) / 255.0 for im in textured_pair(192, 256))
    resized = Matcher(model=model, device="cpu", max_side=128).match_pair(image0, image1)
    small0, small1 = (cv2.resize(im, (128, 96), interpolation=cv2.INTER_AREA) for im in (image0, image1))
    direct = Matcher(model=model, device="cpu", max_side=0).match_pair(small0, small1)
    assert len(direct) > 0
    # pixel centres: x_input = (x_network + 0.5) * 2 - 0.5
    _assert_same(resized, PairMatches(direct.keypoints0 * 2 + 0.5, direct.keypoints1 * 2 + 0.5, direct.confidence))


def test_resize_geometry() -> None:
    assert network_size(480, 640, 320) == (240, 320)
    assert network_size(100, 50, 640) == (640, 320)
    assert network_size(123, 77, 0) == (123, 77)
    # the centre of the top-left pixel of the small image covers pixels 0..3 of a 4x larger one
    points = to_input_pixels(np.array([[0.0, 0.0], [9.0, 4.0]], np.float32), (40, 80), (10, 20))
    np.testing.assert_allclose(points, [[1.5, 1.5], [37.5, 17.5]])


def test_colour_grayscale_uint8_and_float_inputs_agree(model: LoFTR, textured_pair: Callable) -> None:
    matcher = Matcher(model=model, device="cpu", max_side=0)
    image0, image1 = textured_pair(64, 96)
    reference = matcher.match_pair(image0, image1)
    assert len(reference) > 0
    # the conversions round differently in the last bit; random weights amplify that to ~1e-3 px
    rgb0 = np.repeat(image0[:, :, None], 3, axis=2)
    _assert_same(matcher.match_pair(rgb0, image1), reference, atol=0.02)
    _assert_same(matcher.match_pair(image0.astype(np.float64) / 255.0, image1), reference, atol=0.02)
    _assert_same(matcher.match_pair(image0[:, :, None], image1.astype(np.float32) / 255.0), reference, atol=0.02)
    red = np.zeros((2, 2, 3), np.uint8)
    red[:, :, 0] = 255
    np.testing.assert_allclose(to_gray_float(red), 0.299, atol=1e-6)  # ITU-R 601 luma of pure red (RGB order)


def test_empty_and_constant_images_give_no_matches(model: LoFTR, textured_pair: Callable) -> None:
    matcher = Matcher(model=model, device="cpu", max_side=0)
    image, _ = textured_pair(64, 96)
    for blank in (
        np.zeros((0, 0), np.uint8),
        np.zeros((0, 40, 3), np.uint8),
        np.full((64, 96), 128, np.uint8),
    ):
        assert len(matcher.match_pair(blank, image)) == 0
        assert len(matcher.match_pair(image, blank)) == 0
        result = matcher.match_pair(image, blank)
        assert result.keypoints0.shape == (0, 2) and result.keypoints0.dtype == np.float32
    assert [len(m) for m in matcher.match(image, [matcher.extract(np.zeros((5, 5)))])] == [0]


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((8, 8), np.nan, np.float32), "64 non-finite"),
        (np.array([[0.5, np.inf]]), "non-finite"),
        (np.full((8, 8), 2.0), r"must be in \[0, 1\]"),
        (np.zeros((8, 8, 4), np.uint8), r"\(H, W, 3\) RGB"),
        (np.zeros((8, 8), np.uint16), "dtype uint16 is not supported"),
        ([[0, 1]], "numpy array"),
    ],
)
def test_invalid_images_raise_input_image_error(image, message: str) -> None:
    with pytest.raises(InputImageError, match=message):
        to_gray_float(image)


def test_keyframe_features_move_and_state_their_size(model: LoFTR, textured_pair: Callable) -> None:
    matcher = Matcher(model=LoFTR(get_config("outdoor")), device="cpu", max_side=0)
    features = matcher.extract(textured_pair(96, 128)[0])
    assert isinstance(features, KeyframeFeatures)
    assert features.coarse.shape == (1, 256, 12, 16) and features.fine.shape == (1, 128, 48, 64)
    assert features.nbytes == 4 * (256 * 12 * 16 + 128 * 48 * 64) == 144 * 96 * 128
    moved = features.to("cpu")
    assert moved.image_size == (96, 128) and torch.equal(moved.fine, features.fine)


def test_device_and_precision_choices(model: LoFTR, textured_pair: Callable) -> None:
    with pytest.raises(ConfigError, match=r"valid: \['auto', 'cpu', 'cuda'\]"):
        Matcher(model=model, device="tpu")
    with pytest.raises(ConfigError, match=r"valid: .*bf16"):
        Matcher(model=model, device="cpu", precision="int8")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            Matcher(model=model, device="cuda")
        with pytest.raises(ConfigError, match="fp16' needs CUDA"):
            Matcher(model=model, device="auto", precision="fp16")
    # bf16 autocast runs on the CPU too (a tiny model: CPU bf16 is slow)
    tiny = LoFTR(get_config("tiny")).eval()
    matches = Matcher(model=tiny, device="cpu", max_side=0, precision="bf16").match_pair(*textured_pair(64, 96))
    assert matches.keypoints1.dtype == np.float32 and np.isfinite(matches.keypoints1).all()


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_cuda_autocast_agrees_with_fp32(model: LoFTR, textured_pair: Callable, precision: str) -> None:
    image0, image1 = textured_pair(240, 320)
    full = Matcher(model=model, device="cuda", max_side=0, precision="fp32").match_pair(image0, image1)
    half = Matcher(model=model, device="cuda", max_side=0, precision=precision).match_pair(image0, image1)
    model.cpu()
    assert len(full) > 5 and np.isfinite(half.keypoints1).all() and np.isfinite(half.confidence).all()
    # most coarse matches survive the lower precision, and their refined positions stay close
    index = {tuple(p): i for i, p in enumerate(full.keypoints0.tolist())}
    shared = [(index[tuple(p)], i) for i, p in enumerate(half.keypoints0.tolist()) if tuple(p) in index]
    assert len(shared) >= 0.7 * len(full)
    a, b = (np.array(ix) for ix in zip(*shared, strict=True))
    assert np.median(np.abs(full.keypoints1[a] - half.keypoints1[b])) < 0.25


def test_the_fingerprint_names_the_weights_and_the_input_scaling(model: LoFTR) -> None:
    fingerprint = Matcher(model=model, device="cpu", max_side=0).fingerprint
    assert fingerprint == Matcher(model=model, device="cpu", max_side=0).fingerprint
    assert fingerprint != Matcher(model=model, device="cpu", max_side=320).fingerprint
    other = LoFTR(model.config).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        next(other.parameters()).add_(1e-3)
    assert fingerprint != Matcher(model=other, device="cpu", max_side=0).fingerprint


def test_half_precision_keyframes_take_half_the_memory_and_match_alike(model: LoFTR, textured_pair: Callable) -> None:
    image0, image1 = textured_pair(120, 160)
    matcher = Matcher(model=model, device="cpu", max_side=0)
    full = matcher.extract(image1)
    half = full.half()
    assert half.nbytes < 0.55 * full.nbytes
    a, b = matcher.match(image0, [full])[0], matcher.match(image0, [half])[0]
    assert len(b) >= 0.9 * len(a)
