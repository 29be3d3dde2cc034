"""Round trips and refusals of loftr_ros.conversions (property-based where the input space is large)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.errors import ConversionError
from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    MatchSet,
)
from loftr_ros.transforms import make_transform, quaternion_to_matrix

SETTINGS = settings(max_examples=60, deadline=None)
RAW_ENCODINGS = sorted(conversions.IMAGE_ENCODINGS)


@st.composite
def image_arrays(draw: st.DrawFn, encoding: str | None = None) -> tuple[str, np.ndarray]:
    encoding = encoding or draw(st.sampled_from(RAW_ENCODINGS))
    dtype, channels = conversions.IMAGE_ENCODINGS[encoding]
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    shape = (height, width) if channels == 1 else (height, width, channels)
    elements = st.floats(-1e6, 1e6, width=32) if dtype == np.float32 else None
    return encoding, draw(hnp.arrays(dtype, shape, elements=elements))


def padded_message(array: np.ndarray, encoding: str, padding: int, big_endian: bool) -> Image:
    """An Image whose rows carry ``padding`` extra bytes, in the requested byte order."""
    dtype = array.dtype.newbyteorder(">" if big_endian else "<")
    rows = array.astype(dtype).reshape(array.shape[0], -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((rows.shape[0], padding), 0xAB, np.uint8)], axis=1)
    return Image(
        height=array.shape[0],
        width=array.shape[1],
        encoding=encoding,
        is_bigendian=int(big_endian),
        step=padded.shape[1],
        data=padded.tobytes(),
    )


@SETTINGS
@given(image_arrays(), st.integers(0, 7), st.booleans())
def test_raw_image_round_trip_with_row_padding_and_byte_order(
    encoded: tuple[str, np.ndarray], padding: int, big_endian: bool
) -> None:
    encoding, array = encoded
    decoded = conversions.image_to_numpy(padded_message(array, encoding, padding, big_endian))
    np.testing.assert_array_equal(decoded, array)
    again = conversions.image_to_numpy(conversions.numpy_to_image(decoded, encoding))
    np.testing.assert_array_equal(again, array)


@SETTINGS
@given(image_arrays(encoding="rgb8"))
def test_colour_orders_agree_for_matching(encoded: tuple[str, np.ndarray]) -> None:
    _, rgb = encoded
    bgr, rgba = rgb[..., ::-1].copy(), np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], 2)
    bgra = np.concatenate([bgr, rgba[..., 3:]], 2)
    for array, encoding in ((rgb, "rgb8"), (bgr, "bgr8"), (rgba, "rgba8"), (bgra, "bgra8")):
        matched = conversions.image_for_matching(conversions.numpy_to_image(array, encoding))
        np.testing.assert_array_equal(matched, rgb)


@SETTINGS
@given(st.sampled_from(["mono8", "rgb8", "bgr8", "rgba8", "bgra8", "mono16", "16UC1"]), st.data())
def test_png_compression_is_lossless(encoding: str, data: st.DataObject) -> None:
    _, array = data.draw(image_arrays(encoding=encoding))
    compressed = conversions.numpy_to_compressed(array, encoding, "png")
    expected = conversions.image_for_matching(conversions.numpy_to_image(array, encoding))
    np.testing.assert_array_equal(conversions.image_for_matching(compressed), expected)


def test_jpeg_compression_is_close() -> None:
    y, x = np.mgrid[0:32, 0:40]
    smooth = np.stack([x * 5, y * 6, 250 - x * 3], axis=2).astype(np.uint8)  # distinct channels
    compressed = conversions.numpy_to_compressed(smooth, "rgb8", "jpeg")
    assert "jpeg" in compressed.format
    decoded = conversions.image_for_matching(compressed).astype(float)
    assert np.abs(decoded - smooth).mean() < 4.0


@SETTINGS
@given(hnp.arrays(np.float32, (6, 7), elements=st.floats(0.0, 60.0, width=32)))
def test_depth_round_trips_in_both_encodings(depth: np.ndarray) -> None:
    exact = conversions.depth_to_metres(conversions.metres_to_depth_image(depth, "32FC1"))
    np.testing.assert_array_equal(exact, depth)
    millimetres = conversions.depth_to_metres(conversions.metres_to_depth_image(depth, "16UC1"))
    np.testing.assert_allclose(millimetres, depth, atol=5e-4 + 1e-6)
    png = conversions.numpy_to_compressed(np.round(depth * 1000).astype(np.uint16), "16UC1", "png")
    png.format = "16UC1; compressedDepth png"
    np.testing.assert_allclose(conversions.depth_to_metres(png), depth, atol=5e-4 + 1e-6)


def test_non_finite_depth_means_no_measurement() -> None:
    depth = np.array([[1.0, np.nan], [np.inf, -2.0]], np.float32)
    np.testing.assert_array_equal(
        conversions.depth_to_metres(conversions.numpy_to_image(depth, "32FC1")), [[1.0, 0.0], [0.0, 0.0]]
    )


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (
            Image(height=2, width=2, encoding="yuv422", step=4, data=bytes(8)),
            "unsupported image encoding 'yuv422'",
        ),
        (
            Image(height=4, width=3, encoding="rgb8", step=9, data=bytes(35)),
            r"fewer than height\*step = 4\*9 = 36",
        ),
        (Image(height=0, width=3, encoding="mono8", step=3, data=b""), "zero size"),
        (Image(height=2, width=3, encoding="rgb8", step=8, data=bytes(16)), "step 8 is shorter than a row"),
    ],
)
def test_bad_images_are_refused_with_the_reason(message: Image, match: str) -> None:
    with pytest.raises(ConversionError, match=match):
        conversions.image_to_numpy(message)


def test_depth_encodings_are_not_matched_and_images_are_not_depth() -> None:
    with pytest.raises(ConversionError, match="not an intensity image"):
        conversions.image_for_matching(conversions.numpy_to_image(np.ones((2, 2), np.float32), "32FC1"))
    with pytest.raises(ConversionError, match="depth must be 16UC1"):
        conversions.depth_to_metres(conversions.numpy_to_image(np.ones((2, 2), np.uint8), "mono8"))


finite = st.floats(-1e3, 1e3, allow_nan=False)
positive = st.floats(1.0, 2e3)


@SETTINGS
@given(
    st.integers(1, 4000),
    st.integers(1, 4000),
    positive,
    positive,
    finite,
    finite,
    st.lists(st.floats(-1, 1), min_size=5, max_size=5),
)
def test_camera_info_round_trip(
    width: int, height: int, fx: float, fy: float, cx: float, cy: float, distortion: list[float]
) -> None:
    intrinsics = CameraIntrinsics(width, height, fx, fy, cx, cy, "plumb_bob", tuple(distortion))
    msg = conversions.intrinsics_to_camera_info(intrinsics)
    assert conversions.camera_info_to_intrinsics(msg) == intrinsics
    np.testing.assert_array_equal(np.asarray(msg.p).reshape(3, 4)[:, :3], intrinsics.K)


@pytest.mark.parametrize(
    ("k", "size", "match"),
    [
        ([np.nan, 0, 1, 0, 5, 1, 0, 0, 1], (4, 4), "not finite"),
        ([-5, 0, 1, 0, 5, 1, 0, 0, 1], (4, 4), "must be positive"),
        ([5, 0, 1, 0, 5, 1, 0, 0, 1], (0, 4), "zero size"),
    ],
)
def test_bad_camera_info_is_refused(k: list[float], size: tuple[int, int], match: str) -> None:
    msg = CameraInfo(width=size[0], height=size[1], k=[float(v) for v in k])
    with pytest.raises(ConversionError, match=match):
        conversions.camera_info_to_intrinsics(msg)


quaternions = st.tuples(*[st.floats(-1, 1)] * 4).filter(lambda q: np.linalg.norm(q) > 0.1)


@SETTINGS
@given(quaternions, st.tuples(finite, finite, finite))
def test_pose_and_transform_round_trip(q: tuple[float, ...], t: tuple[float, ...]) -> None:
    T = make_transform(quaternion_to_matrix(np.array(q)), np.array(t))
    np.testing.assert_allclose(conversions.pose_to_matrix(conversions.matrix_to_pose(T)), T, atol=1e-9)
    np.testing.assert_allclose(conversions.transform_to_matrix(conversions.matrix_to_transform(T)), T, atol=1e-9)


def test_zero_quaternion_is_refused() -> None:
    pose = conversions.matrix_to_pose(np.eye(4))
    pose.orientation.w = 0.0
    with pytest.raises(ConversionError, match="pose orientation"):
        conversions.pose_to_matrix(pose)


def make_keyframe(rng: np.random.Generator, with_depth: bool = True) -> Keyframe:
    q = rng.normal(size=4)
    return Keyframe(
        id="kf-7",
        stamp_ns=1_341_847_980_723_020_000,
        frame_id="map",
        image=rng.integers(0, 256, (6, 8, 3), dtype=np.uint8),
        intrinsics=CameraIntrinsics(8, 6, 5.0, 5.5, 3.5, 2.5, "plumb_bob", (0.1, 0.0, 0.0, 0.0, 0.0)),
        T_map_camera=make_transform(quaternion_to_matrix(q), rng.normal(size=3)),
        depth=rng.integers(0, 9000, (6, 8)).astype(np.float32) / 1000.0 if with_depth else None,
    )


@pytest.mark.parametrize("with_depth", [True, False])
def test_keyframe_round_trip(with_depth: bool) -> None:
    keyframe = make_keyframe(np.random.default_rng(1), with_depth)
    back = conversions.keyframe_from_msg(conversions.keyframe_to_msg(keyframe))
    assert (back.id, back.stamp_ns, back.frame_id, back.intrinsics) == (
        keyframe.id,
        keyframe.stamp_ns,
        keyframe.frame_id,
        keyframe.intrinsics,
    )
    np.testing.assert_array_equal(back.image, keyframe.image)
    np.testing.assert_allclose(back.T_map_camera, keyframe.T_map_camera, atol=1e-9)
    if with_depth:
        np.testing.assert_allclose(back.depth, keyframe.depth, atol=1e-6)
    else:
        assert back.depth is None


def test_keyframe_refusals_name_the_keyframe_and_the_fault() -> None:
    msg = conversions.keyframe_to_msg(make_keyframe(np.random.default_rng(2)))
    msg.header.frame_id = ""
    with pytest.raises(ConversionError, match="'kf-7' has no pose"):
        conversions.keyframe_from_msg(msg)
    msg = conversions.keyframe_to_msg(make_keyframe(np.random.default_rng(2)))
    msg.camera_info.width = 16
    with pytest.raises(ConversionError, match="camera_info is 16x6 but the image is 8x6"):
        conversions.keyframe_from_msg(msg)
    msg = conversions.keyframe_to_msg(make_keyframe(np.random.default_rng(2)))
    msg.depth.encoding = "rgb8"
    with pytest.raises(ConversionError, match="keyframe 'kf-7'"):
        conversions.keyframe_from_msg(msg)


@SETTINGS
@given(st.integers(0, 40), st.integers(0, 2**32 - 1))
def test_matches_round_trip(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matches = MatchSet(
        keyframe_id="kf-1",
        keypoints_query=rng.uniform(0, 640, (n, 2)).astype(np.float32),
        keypoints_keyframe=rng.uniform(0, 640, (n, 2)).astype(np.float32),
        confidence=rng.uniform(0, 1, n).astype(np.float32),
        inliers=rng.uniform(size=n) > 0.5,
    )
    back = conversions.matches_from_msg(conversions.matches_to_msg(matches, Header(frame_id="cam")))
    assert back.keyframe_id == "kf-1"
    for name in ("keypoints_query", "keypoints_keyframe", "confidence", "inliers"):
        np.testing.assert_array_equal(getattr(back, name), getattr(matches, name))


def test_inconsistent_matches_are_refused() -> None:
    msg = conversions.matches_to_msg(
        MatchSet("kf", np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2), np.ones(2, bool)), Header()
    )
    msg.inlier = [True]
    with pytest.raises(ConversionError, match="inconsistent lengths"):
        conversions.matches_from_msg(msg)


def test_status_round_trip_keeps_the_summary() -> None:
    result = LocalizationResult(
        state=LocalizationState.NOT_LOCALIZED,
        reason="too few inliers: 8 < 20",
        keyframe_ids=["a", "b"],
        num_matches=120,
        num_inliers=8,
        reprojection_rmse_px=2.5,
        timings={"retrieval": 0.001, "matching": 0.25, "pose": 0.01},
    )
    back = conversions.status_from_msg(conversions.status_to_msg(result, Header()))
    assert back.state is result.state and back.reason == result.reason
    assert back.keyframe_ids == result.keyframe_ids and back.timings == pytest.approx(result.timings)
    assert (back.num_matches, back.num_inliers, back.reprojection_rmse_px) == (120, 8, 2.5)


def test_pose_message_carries_the_covariance_row_major() -> None:
    covariance = np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    covariance[0, 1] = 0.5
    msg = conversions.pose_with_covariance_msg(np.eye(4), covariance, Header(frame_id="map"))
    assert msg.header.frame_id == "map" and msg.pose.covariance[1] == 0.5 and msg.pose.covariance[35] == 6.0
