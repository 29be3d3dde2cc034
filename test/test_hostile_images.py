"""Hostile images and calibrations (issue 13): decoding never trusts the declared size, decoder errors and
bad distortion become ConversionErrors with the reason."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from loftr_ros import conversions
from loftr_ros.errors import ConversionError
from loftr_ros.localization.pose import undistort_points
from loftr_ros.localization.types import CameraIntrinsics


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (the data would inflate to far more)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def compressed(data: bytes, fmt: str = "png") -> CompressedImage:
    return CompressedImage(format=fmt, data=list(data))


def test_a_huge_declared_png_is_refused_before_decoding() -> None:
    with pytest.raises(ConversionError, match="declares 100000x100000 pixels: refused"):
        conversions.image_for_matching(compressed(png_declaring(100_000, 100_000)))


def test_an_image_above_the_limit_is_refused_and_below_it_decodes() -> None:
    _, png = cv2.imencode(".png", np.zeros((40, 50), np.uint8))
    with pytest.raises(ConversionError, match="max_image_pixels 1000"):
        conversions.image_for_matching(compressed(png.tobytes()), max_pixels=1000)
    assert conversions.image_for_matching(compressed(png.tobytes()), max_pixels=2000).shape == (40, 50)
    raw = Image(width=50, height=40, encoding="mono8", step=50, data=[0] * 2000)
    with pytest.raises(ConversionError, match="max_image_pixels 1000"):
        conversions.image_for_matching(raw, max_pixels=1000)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"garbage" * 40, "neither PNG nor JPEG"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "truncated"),
        (b"\xff\xd8\xff\xe0\x00", "truncated"),
        (png_declaring(64, 64)[:40], "could not be decoded"),
    ],
)
def test_undecodable_payloads_are_conversion_errors(data: bytes, match: str) -> None:
    with pytest.raises(ConversionError, match=match):
        conversions.image_for_matching(compressed(data))


def test_jpeg_size_is_read_from_its_frame_header() -> None:
    _, jpeg = cv2.imencode(".jpg", np.zeros((30, 70, 3), np.uint8))
    assert conversions.compressed_image_size(np.frombuffer(jpeg.tobytes(), np.uint8)) == (70, 30)


@pytest.mark.parametrize(("model", "count"), [("plumb_bob", 3), ("plumb_bob", 7), ("equidistant", 5)])
def test_a_distortion_vector_of_the_wrong_length_is_refused(model: str, count: int) -> None:
    msg = CameraInfo(width=64, height=48, k=[50.0, 0, 32, 0, 50, 24, 0, 0, 1], distortion_model=model,
                     d=[0.01] * count)  # fmt: skip
    with pytest.raises(ConversionError, match=f"takes .* coefficients, got {count}"):
        conversions.camera_info_to_intrinsics(msg)


def test_fisheye_distortion_uses_the_fisheye_model() -> None:
    K = CameraIntrinsics(640, 480, 300.0, 300.0, 319.5, 239.5, "equidistant", (0.1, -0.02, 0.003, 0.0))
    ideal = np.array([[100.0, 50.0], [600.0, 400.0]])
    normalised = (ideal - [319.5, 239.5]) / 300.0
    distorted = cv2.fisheye.distortPoints(normalised[:, None, :], K.K, np.array(K.distortion))[:, 0]
    np.testing.assert_allclose(undistort_points(distorted, K), ideal, atol=1e-3)


def test_a_64_kb_keyframe_id_is_refused() -> None:
    from loftr_ros.msg import Keyframe as KeyframeMsg

    from loftr_ros.localization.store import KeyframeStore
    from loftr_ros.localization.types import Keyframe

    with pytest.raises(ConversionError, match="at most 256"):
        conversions.keyframe_from_msg(KeyframeMsg(id="k" * 65536))
    keyframe = Keyframe("k" * 65536, 0, "map", np.zeros((8, 8), np.uint8), CameraIntrinsics(8, 8, 5, 5, 3.5, 3.5),
                        np.eye(4))  # fmt: skip
    from loftr_ros.errors import MapError

    with KeyframeStore(":memory:") as store, pytest.raises(MapError, match="1 to 256 bytes"):
        store.add(keyframe)
