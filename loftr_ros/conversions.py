"""The one place where ROS messages become the core's numpy arrays and dataclasses, and back.

Every function raises :class:`~loftr_ros.errors.ConversionError` with a message that says what was
wrong with the message; none of them modifies its input. Image conventions follow the core
(:mod:`loftr_ros.localization.types`): uint8 grayscale (H, W) or RGB (H, W, 3) for matching, float32
metres for depth, 0 meaning "no measurement".
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import cv2
import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, PoseWithCovarianceStamped, Transform
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from loftr_ros.errors import ConversionError, LoftrRosError
from loftr_ros.localization.store import MAX_ID_BYTES
from loftr_ros.localization.types import (
    CameraIntrinsics,
    Keyframe,
    LocalizationResult,
    LocalizationState,
    MatchSet,
)
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import LocalizationStatus, Matches, StageTiming
from loftr_ros.transforms import make_transform, matrix_to_quaternion, quaternion_to_matrix

# encoding -> (dtype, channels); aliases share a layout.
IMAGE_ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "mono8": (np.dtype(np.uint8), 1),
    "8UC1": (np.dtype(np.uint8), 1),
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "8UC3": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "8UC4": (np.dtype(np.uint8), 4),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_COMPRESSED_DEPTH_HEADER_BYTES = 12  # image_transport's compressedDepth: int32 format + 2 float32 params


# --- time ---------------------------------------------------------------------------------------


def stamp_to_ns(stamp: Time) -> int:
    """Nanoseconds since the epoch (or since the clock's start under sim time)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


# --- images -------------------------------------------------------------------------------------


def _raw_bytes(data: object) -> np.ndarray:
    if isinstance(data, (bytes, bytearray, memoryview)) or hasattr(data, "buffer_info"):
        return np.frombuffer(data, dtype=np.uint8)  # bytes or array.array('B'): no copy
    return np.asarray(data, dtype=np.uint8)


def image_to_numpy(msg: Image) -> np.ndarray:
    """The pixels of a raw image in its own encoding: (H, W) or (H, W, C), native byte order.

    Rows padded beyond ``width`` in ``step`` are cropped; the result owns its memory.
    """
    if msg.encoding not in IMAGE_ENCODINGS:
        msg_ = f"unsupported image encoding '{msg.encoding}'; supported: {', '.join(IMAGE_ENCODINGS)}"
        raise ConversionError(msg_)
    dtype, channels = IMAGE_ENCODINGS[msg.encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ConversionError(f"image has zero size ({width}x{height})")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        msg_ = f"image step {step} is shorter than a row of {width} {msg.encoding} pixels ({row_bytes} bytes)"
        raise ConversionError(msg_)
    raw = _raw_bytes(msg.data)
    if raw.size < height * step:
        msg_ = (
            f"image data has {raw.size} bytes, fewer than height*step = {height}*{step} = {height * step}"
            f" ({width}x{height} {msg.encoding})"
        )
        raise ConversionError(msg_)
    rows = raw[: height * step].reshape(height, step)[:, :row_bytes]
    byte_order = ">" if msg.is_bigendian else "<"
    pixels = np.ascontiguousarray(rows).view(dtype.newbyteorder(byte_order))
    pixels = pixels.astype(dtype, copy=True)  # native order, owned memory
    return pixels.reshape(height, width, channels) if channels > 1 else pixels.reshape(height, width)


def numpy_to_image(array: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """A raw image message holding ``array`` (its layout must fit ``encoding``)."""
    if encoding not in IMAGE_ENCODINGS:
        msg = f"unsupported image encoding '{encoding}'; supported: {', '.join(IMAGE_ENCODINGS)}"
        raise ConversionError(msg)
    dtype, channels = IMAGE_ENCODINGS[encoding]
    array = np.asarray(array)
    expected_ndim = 2 if channels == 1 else 3
    if array.ndim != expected_ndim or (channels > 1 and array.shape[2] != channels) or array.dtype != dtype:
        msg = (
            f"array of shape {array.shape} and dtype {array.dtype} does not fit encoding '{encoding}'"
            f" ({dtype}, {channels} channel(s))"
        )
        raise ConversionError(msg)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ConversionError(f"image has zero size ({array.shape[1]}x{array.shape[0]})")
    out = Image()
    if header is not None:
        out.header = header
    out.height, out.width = int(array.shape[0]), int(array.shape[1])
    out.encoding = encoding
    out.is_bigendian = int(sys.byteorder == "big")
    out.step = out.width * channels * dtype.itemsize
    out.data = np.ascontiguousarray(array).tobytes()
    return out


DEFAULT_MAX_IMAGE_PIXELS = 8_000_000  # four 1920x1080 frames: larger messages are refused undecoded
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def compressed_image_size(raw: np.ndarray) -> tuple[int, int]:
    """(width, height) a PNG or JPEG declares in its header, read without decoding the image.

    Raises ConversionError for any other format and for a header that is cut short or malformed.
    """
    data = raw.tobytes()
    if data[:8] == _PNG_MAGIC:
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise ConversionError("PNG header is truncated or has no IHDR chunk")
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                raise ConversionError(f"JPEG header is malformed at byte {i}")
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in _JPEG_SOF:
                if i + 9 > len(data):
                    break
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
            if length < 2:
                raise ConversionError(f"JPEG header is malformed at byte {i}")
            i += 2 + length
        raise ConversionError("JPEG header is truncated: no frame size before the data ends")
    raise ConversionError(f"compressed data is neither PNG nor JPEG (starts with {data[:8].hex()})")


def compressed_to_numpy(
    msg: CompressedImage, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> tuple[np.ndarray, str]:
    """Decode a CompressedImage (jpeg, png, or image_transport's compressedDepth png).

    The size the header declares is checked against ``max_pixels`` before anything is decoded, and any
    decoder failure becomes a ConversionError with the reason. Returns the pixels and their encoding:
    ``bgr8``, ``bgra8``, ``mono8``, ``mono16`` or ``16UC1``.
    """
    fmt = msg.format.lower()
    raw = _raw_bytes(msg.data)
    if raw.size == 0:
        raise ConversionError(f"compressed image (format '{msg.format}') has no data")
    is_depth = "compresseddepth" in fmt
    if is_depth:
        if fmt.startswith("32fc1"):
            msg_ = "compressedDepth with 32FC1 (quantised inverse depth) is not supported; publish 16UC1"
            raise ConversionError(msg_)
        if raw[: len(_PNG_MAGIC)].tobytes() != _PNG_MAGIC:
            raw = raw[_COMPRESSED_DEPTH_HEADER_BYTES:]
    width, height = compressed_image_size(raw)
    if width <= 0 or height <= 0 or width * height > max_pixels:
        msg_ = f"compressed image declares {width}x{height} pixels: refused (max_image_pixels {max_pixels})"
        raise ConversionError(msg_)
    try:
        pixels = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        msg_ = f"compressed image (format '{msg.format}', {raw.size} bytes) could not be decoded: {error.err}"
        raise ConversionError(msg_) from None
    if pixels is None or pixels.size == 0:
        msg_ = f"compressed image (format '{msg.format}', {raw.size} bytes) could not be decoded"
        raise ConversionError(msg_)
    if pixels.ndim == 2:
        encoding = "16UC1" if is_depth else ("mono16" if pixels.dtype == np.uint16 else "mono8")
    else:
        if pixels.dtype != np.uint8:
            raise ConversionError(f"compressed colour image of depth {pixels.dtype} is not supported")
        encoding = "bgra8" if pixels.shape[2] == 4 else "bgr8"
    return pixels, encoding


def numpy_to_compressed(
    array: np.ndarray, encoding: str, fmt: str = "png", header: Header | None = None
) -> CompressedImage:
    """Compress ``array`` (in ``encoding``) as png or jpeg, with a format string image_transport reads."""
    if fmt not in ("png", "jpeg"):
        raise ConversionError(f"unsupported compression '{fmt}'; supported: png, jpeg")
    bgr = _to_bgr_or_gray(np.asarray(array), encoding)
    ok, buffer = cv2.imencode(".png" if fmt == "png" else ".jpg", bgr)
    if not ok:
        raise ConversionError(f"could not encode a {bgr.shape} {bgr.dtype} image as {fmt}")
    out = CompressedImage()
    if header is not None:
        out.header = header
    target = "bgr8" if bgr.ndim == 3 else ("mono16" if bgr.dtype == np.uint16 else "mono8")
    out.format = f"{encoding}; {fmt} compressed {target}"
    out.data = buffer.tobytes()
    return out


def _to_bgr_or_gray(array: np.ndarray, encoding: str) -> np.ndarray:
    if encoding in ("rgb8", "8UC3"):
        return array[..., ::-1] if encoding == "rgb8" else array
    if encoding == "rgba8":
        return cv2.cvtColor(array, cv2.COLOR_RGBA2BGR)
    if encoding in ("bgra8", "8UC4"):
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    if encoding in ("bgr8", "mono8", "8UC1", "mono16", "16UC1"):
        return array
    raise ConversionError(f"encoding '{encoding}' cannot be compressed as an image")


def to_matching_image(pixels: np.ndarray, encoding: str) -> np.ndarray:
    """uint8 grayscale (H, W) or RGB (H, W, 3), what the matcher takes, from pixels in ``encoding``."""
    if encoding in ("mono8", "8UC1", "rgb8", "8UC3"):
        return pixels
    if encoding == "bgr8":
        return np.ascontiguousarray(pixels[..., ::-1])
    if encoding in ("rgba8", "8UC4"):
        return np.ascontiguousarray(pixels[..., :3])
    if encoding == "bgra8":
        return np.ascontiguousarray(pixels[..., 2::-1])
    if encoding in ("mono16", "16UC1"):
        return (pixels.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    msg = f"encoding '{encoding}' is not an intensity image; matchable: mono8, rgb8, bgr8, rgba8, bgra8, mono16"
    raise ConversionError(msg)


def _check_raw_size(msg: Image, max_pixels: int) -> None:
    if int(msg.width) * int(msg.height) > max_pixels:
        raise ConversionError(f"image is {msg.width}x{msg.height} pixels: refused (max_image_pixels {max_pixels})")


def image_for_matching(msg: Image | CompressedImage, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> np.ndarray:
    """The matcher's input from a raw or compressed image message of at most ``max_pixels`` pixels."""
    if isinstance(msg, CompressedImage):
        return to_matching_image(*compressed_to_numpy(msg, max_pixels))
    _check_raw_size(msg, max_pixels)
    return to_matching_image(image_to_numpy(msg), msg.encoding)


def depth_to_metres(msg: Image | CompressedImage, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> np.ndarray:
    """float32 depth in metres, 0 where there is no measurement (16UC1 is millimetres, 32FC1 metres)."""
    if isinstance(msg, CompressedImage):
        pixels, encoding = compressed_to_numpy(msg, max_pixels)
    else:
        _check_raw_size(msg, max_pixels)
        pixels, encoding = image_to_numpy(msg), msg.encoding
    if encoding in ("16UC1", "mono16"):
        return pixels.astype(np.float32) * np.float32(0.001)
    if encoding == "32FC1":
        depth = pixels.astype(np.float32, copy=True)
        depth[~np.isfinite(depth) | (depth < 0)] = 0.0
        return depth
    raise ConversionError(f"depth must be 16UC1 (millimetres) or 32FC1 (metres), not '{encoding}'")


def metres_to_depth_image(depth: np.ndarray, encoding: str = "16UC1", header: Header | None = None) -> Image:
    """A depth image message from float metres (0 or NaN = no measurement)."""
    depth = np.nan_to_num(np.asarray(depth, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if encoding == "32FC1":
        return numpy_to_image(depth, "32FC1", header)
    if encoding == "16UC1":
        millimetres = np.clip(np.round(depth * 1000.0), 0, np.iinfo(np.uint16).max).astype(np.uint16)
        return numpy_to_image(millimetres, "16UC1", header)
    raise ConversionError(f"depth encoding must be 16UC1 or 32FC1, not '{encoding}'")


def rgb_to_image(image: np.ndarray, header: Header | None = None) -> Image:
    """A raw image message (rgb8 or mono8) from a matcher-style uint8 array."""
    image = np.asarray(image)
    return numpy_to_image(image, "mono8" if image.ndim == 2 else "rgb8", header)


# --- camera calibration ---------------------------------------------------------------------------


# coefficient counts OpenCV accepts for each ROS distortion model (sensor_msgs/distortion_models.hpp)
DISTORTION_LENGTHS: dict[str, tuple[int, ...]] = {
    "plumb_bob": (4, 5),
    "rational_polynomial": (8, 12, 14),
    "equidistant": (4,),
}


def camera_info_to_intrinsics(msg: CameraInfo) -> CameraIntrinsics:
    """Intrinsics and distortion of a CameraInfo; refuses zero sizes and non-finite or non-positive focals."""
    width, height = int(msg.width), int(msg.height)
    if width <= 0 or height <= 0:
        raise ConversionError(f"camera_info has zero size ({width}x{height})")
    k = np.asarray(msg.k, dtype=np.float64)
    d = np.asarray(msg.d, dtype=np.float64)
    if k.shape != (9,) or not np.isfinite(k).all() or not np.isfinite(d).all():
        raise ConversionError(f"camera_info intrinsics are not finite: K={k.tolist()}, D={d.tolist()}")
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    if fx <= 0 or fy <= 0:
        raise ConversionError(f"camera_info focal lengths must be positive: fx={fx}, fy={fy}")
    expected = DISTORTION_LENGTHS.get(msg.distortion_model)
    if d.size and msg.distortion_model and expected is not None and d.size not in expected:
        msg_ = (
            f"camera_info distortion model '{msg.distortion_model}' takes {' or '.join(map(str, expected))} "
            f"coefficients, got {d.size}"
        )
        raise ConversionError(msg_)
    if d.size and any(abs(c) > 0 for c in d) and msg.distortion_model not in DISTORTION_LENGTHS:
        supported = ", ".join(DISTORTION_LENGTHS)
        raise ConversionError(f"camera_info distortion model '{msg.distortion_model}' is not supported ({supported})")
    return CameraIntrinsics(
        width=width,
        height=height,
        fx=float(fx),
        fy=float(fy),
        cx=float(cx),
        cy=float(cy),
        distortion_model=msg.distortion_model,
        distortion=tuple(float(c) for c in d),
    )


def intrinsics_to_camera_info(intrinsics: CameraIntrinsics, header: Header | None = None) -> CameraInfo:
    msg = CameraInfo()
    if header is not None:
        msg.header = header
    msg.width, msg.height = intrinsics.width, intrinsics.height
    msg.k = intrinsics.K.reshape(-1).tolist()
    msg.r = np.eye(3).reshape(-1).tolist()
    P = np.zeros((3, 4))
    P[:, :3] = intrinsics.K
    msg.p = P.reshape(-1).tolist()
    msg.distortion_model = intrinsics.distortion_model or "plumb_bob"
    msg.d = list(intrinsics.distortion) if intrinsics.distortion else [0.0] * 5
    return msg


# --- poses --------------------------------------------------------------------------------------


def _rigid(translation: Sequence[float], quaternion: Sequence[float], what: str) -> np.ndarray:
    t = np.asarray(translation, dtype=np.float64)
    if not np.isfinite(t).all():
        raise ConversionError(f"{what} position is not finite: {t.tolist()}")
    try:
        R = quaternion_to_matrix(quaternion)
    except LoftrRosError as error:
        raise ConversionError(f"{what} orientation: {error}") from None
    return make_transform(R, t)


def pose_to_matrix(pose: Pose) -> np.ndarray:
    """4x4 transform of a Pose (the quaternion is normalised; zero or non-finite is refused)."""
    p, q = pose.position, pose.orientation
    return _rigid((p.x, p.y, p.z), (q.x, q.y, q.z, q.w), "pose")


def transform_to_matrix(transform: Transform) -> np.ndarray:
    t, q = transform.translation, transform.rotation
    return _rigid((t.x, t.y, t.z), (q.x, q.y, q.z, q.w), "transform")


def _checked_matrix(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.isfinite(T).all():
        raise ConversionError(f"expected a finite 4x4 transform, got shape {T.shape}")
    return T[:3, 3], matrix_to_quaternion(T[:3, :3])


def matrix_to_pose(T: np.ndarray) -> Pose:
    t, q = _checked_matrix(T)
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in t)
    pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = (float(v) for v in q)
    return pose


def matrix_to_transform(T: np.ndarray) -> Transform:
    t, q = _checked_matrix(T)
    transform = Transform()
    transform.translation.x, transform.translation.y, transform.translation.z = (float(v) for v in t)
    r = transform.rotation
    r.x, r.y, r.z, r.w = (float(v) for v in q)
    return transform


# --- our messages -------------------------------------------------------------------------------


def keyframe_from_msg(msg: KeyframeMsg) -> Keyframe:
    """The core's Keyframe from a ``loftr_ros/Keyframe`` message, validated field by field."""
    if not msg.id:
        raise ConversionError("keyframe has an empty id")
    if len(msg.id.encode()) > MAX_ID_BYTES:
        raise ConversionError(f"keyframe id is {len(msg.id.encode())} bytes; at most {MAX_ID_BYTES}")
    if not msg.header.frame_id:
        raise ConversionError(f"keyframe '{msg.id}' has no pose: header.frame_id (the map frame) is empty")
    where = f"keyframe '{msg.id}'"
    try:
        image = image_for_matching(msg.image)
        intrinsics = camera_info_to_intrinsics(msg.camera_info)
        T_map_camera = pose_to_matrix(msg.pose)
        depth = None
        if msg.depth.height > 0 or msg.depth.width > 0 or len(msg.depth.data) > 0:
            depth = depth_to_metres(msg.depth)
    except ConversionError as error:
        raise ConversionError(f"{where}: {error}") from None
    height, width = image.shape[:2]
    if (intrinsics.width, intrinsics.height) != (width, height):
        size = f"{intrinsics.width}x{intrinsics.height}"
        msg_ = f"{where}: camera_info is {size} but the image is {width}x{height}"
        raise ConversionError(msg_)
    if depth is not None and depth.shape != (height, width):
        msg_ = f"{where}: depth is {depth.shape[1]}x{depth.shape[0]} but the image is {width}x{height}"
        raise ConversionError(msg_)
    return Keyframe(
        id=msg.id,
        stamp_ns=stamp_to_ns(msg.header.stamp),
        frame_id=msg.header.frame_id,
        image=image,
        intrinsics=intrinsics,
        T_map_camera=T_map_camera,
        depth=depth,
    )


def keyframe_to_msg(keyframe: Keyframe, camera_frame_id: str = "camera", depth_encoding: str = "16UC1") -> KeyframeMsg:
    msg = KeyframeMsg()
    msg.id = keyframe.id
    msg.header = Header(stamp=ns_to_stamp(keyframe.stamp_ns), frame_id=keyframe.frame_id)
    camera_header = Header(stamp=msg.header.stamp, frame_id=camera_frame_id)
    msg.image = rgb_to_image(keyframe.image, camera_header)
    if keyframe.depth is not None:
        msg.depth = metres_to_depth_image(keyframe.depth, depth_encoding, camera_header)
    msg.camera_info = intrinsics_to_camera_info(keyframe.intrinsics, camera_header)
    msg.pose = matrix_to_pose(keyframe.T_map_camera)
    return msg


def _interleave(points: np.ndarray) -> list[float]:
    return np.asarray(points, dtype=np.float32).reshape(-1).tolist()


def matches_to_msg(matches: MatchSet, header: Header) -> Matches:
    msg = Matches()
    msg.header = header
    msg.keyframe_id = matches.keyframe_id
    msg.query_points = _interleave(matches.keypoints_query)
    msg.keyframe_points = _interleave(matches.keypoints_keyframe)
    msg.confidence = np.asarray(matches.confidence, dtype=np.float32).tolist()
    msg.inlier = [bool(v) for v in np.asarray(matches.inliers, dtype=bool)]
    return msg


def matches_from_msg(msg: Matches) -> MatchSet:
    n = len(msg.confidence)
    if len(msg.query_points) != 2 * n or len(msg.keyframe_points) != 2 * n or len(msg.inlier) != n:
        msg_ = (
            f"matches against '{msg.keyframe_id}' have inconsistent lengths: {len(msg.query_points)} query"
            f" and {len(msg.keyframe_points)} keyframe coordinates, {n} confidences, {len(msg.inlier)} flags"
        )
        raise ConversionError(msg_)
    return MatchSet(
        keyframe_id=msg.keyframe_id,
        keypoints_query=np.asarray(msg.query_points, dtype=np.float32).reshape(n, 2),
        keypoints_keyframe=np.asarray(msg.keyframe_points, dtype=np.float32).reshape(n, 2),
        confidence=np.asarray(msg.confidence, dtype=np.float32),
        inliers=np.asarray(msg.inlier, dtype=bool),
    )


def status_to_msg(result: LocalizationResult, header: Header) -> LocalizationStatus:
    msg = LocalizationStatus()
    msg.header = header
    msg.state = int(result.state)
    msg.reason = result.reason
    msg.keyframe_ids = list(result.keyframe_ids)
    msg.match_counts = [len(m) for m in result.matches]
    msg.inlier_counts = [m.num_inliers for m in result.matches]
    msg.num_matches = int(result.num_matches)
    msg.num_inliers = int(result.num_inliers)
    msg.reprojection_rmse_px = float(result.reprojection_rmse_px)
    msg.timings = [StageTiming(stage=name, seconds=float(s)) for name, s in result.timings.items()]
    return msg


def status_from_msg(msg: LocalizationStatus) -> LocalizationResult:
    """The summary a status message carries (no pose, no matches: those travel on their own topics)."""
    try:
        state = LocalizationState(msg.state)
    except ValueError:
        raise ConversionError(f"unknown localization state {msg.state}") from None
    return LocalizationResult(
        state=state,
        reason=msg.reason,
        keyframe_ids=list(msg.keyframe_ids),
        num_matches=int(msg.num_matches),
        num_inliers=int(msg.num_inliers),
        reprojection_rmse_px=float(msg.reprojection_rmse_px),
        timings={t.stage: float(t.seconds) for t in msg.timings},
    )


def pose_with_covariance_msg(
    T_map_target: np.ndarray, covariance: np.ndarray | None, header: Header
) -> PoseWithCovarianceStamped:
    """The published pose: ``header.frame_id`` is the map frame; covariance 6x6 in REP-103 order."""
    msg = PoseWithCovarianceStamped()
    msg.header = header
    msg.pose.pose = matrix_to_pose(T_map_target)
    cov = np.full((6, 6), 0.0) if covariance is None else np.asarray(covariance, dtype=np.float64)
    if cov.shape != (6, 6) or not np.isfinite(cov).all():
        raise ConversionError(f"pose covariance must be a finite 6x6 matrix, got shape {cov.shape}")
    msg.pose.covariance = cov.reshape(-1).tolist()
    return msg


def diagnostics_msg(
    name: str, hardware_id: str, values: dict[str, str], stamp: Time, worker_alive: bool = True
) -> DiagnosticArray:
    """The node's /diagnostics: ERROR if the worker died, WARN while frames are rejected or not localized.

    A node that is not active (lifecycle) is OK: a lifecycle manager keeps it so on purpose.
    """
    status = DiagnosticStatus(name=name, hardware_id=hardware_id)
    status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
    rejected = sum(int(v) for k, v in values.items() if k.startswith("rejected."))
    last_state = values.get("last_state", "")
    lifecycle_state = values.get("lifecycle_state", "active")
    if lifecycle_state != "active":
        status.level, status.message = DiagnosticStatus.OK, f"{lifecycle_state} (lifecycle): not localizing"
    elif not worker_alive:
        status.level, status.message = DiagnosticStatus.ERROR, "worker thread stopped"
    elif last_state and last_state != LocalizationState.LOCALIZED.name:
        status.level = DiagnosticStatus.WARN
        status.message = f"last frame {last_state.lower()}: {values.get('last_reason', '')}"
    elif rejected:
        status.level, status.message = DiagnosticStatus.WARN, f"localizing; {rejected} messages rejected so far"
    else:
        status.level = DiagnosticStatus.OK
        status.message = "localizing" if last_state else "waiting for images"
    return DiagnosticArray(header=Header(stamp=stamp), status=[status])
