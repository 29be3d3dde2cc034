"""A DDS fuzz of the node (issue 13): malformed messages of every type and defect class, compressed images
(the main run) and raw ones (a node of its own: a node subscribes to one transport). The node never stops;
every malformed image gets a REJECTED status with its reason, every other malformed message a counted
rejection; good frames are localized afterwards; memory stays flat.

500 compressed-image and other messages plus 120 raw images in CI; 10,000 with ``--run-slow``.
"""

from __future__ import annotations

import os
import struct
import subprocess
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseWithCovarianceStamped
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import LocalizationStatus
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from support.node_process import running_node

from loftr_ros import conversions
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic.pairs import PairConfig, make_sequence

ROOT = Path(__file__).resolve().parents[2]
NODE = "/loftr_localizer"


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 512)) + chunk(
        b"IEND", b""
    )


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


# image defects: (name, compressed payload made from a good frame, camera_info mutation)
def image_defects(frame: np.ndarray) -> list[tuple[str, Callable[[], bytes], Callable[[CameraInfo], None]]]:
    good = _png(frame)
    rng = np.random.default_rng(0)

    def keep(_: CameraInfo) -> None:
        pass

    def nan_k(info: CameraInfo) -> None:
        info.k[0] = float("nan")

    def negative_focal(info: CameraInfo) -> None:
        info.k[0] = -100.0

    def short_distortion(info: CameraInfo) -> None:
        info.distortion_model, info.d = "plumb_bob", [0.1, 0.01, 0.0]

    def zero_size(info: CameraInfo) -> None:
        info.width = 0

    return [
        ("garbage", lambda: rng.integers(0, 256, 600, dtype=np.uint8).tobytes(), keep),
        ("huge declared png", lambda: _png_declaring(100_000, 100_000), keep),
        ("truncated png", lambda: good[: len(good) // 3], keep),
        ("truncated jpeg", lambda: cv2.imencode(".jpg", frame)[1].tobytes()[:200], keep),
        ("empty", lambda: b"", keep),
        ("other size", lambda: _png(frame[:60, :80]), keep),
        ("nan intrinsics", lambda: good, nan_k),
        ("negative focal", lambda: good, negative_focal),
        ("short distortion", lambda: good, short_distortion),
        ("zero size info", lambda: good, zero_size),
    ]


def other_defects(keyframe: KeyframeMsg) -> list[tuple[str, str, Callable[[], object]]]:
    """(name, rejection category, message factory) of the non-image topics."""

    def bad_keyframe(mutate: Callable[[KeyframeMsg], None]) -> Callable[[], KeyframeMsg]:
        def make() -> KeyframeMsg:
            msg = KeyframeMsg()
            msg.header, msg.id, msg.image = keyframe.header, "fuzz", keyframe.image
            msg.camera_info, msg.pose, msg.depth = keyframe.camera_info, keyframe.pose, keyframe.depth
            mutate(msg)
            return msg

        return make

    def nan_odometry() -> Odometry:
        msg = Odometry()
        msg.pose.pose.position.x = float("nan")
        return msg

    def zero_quaternion_pose() -> PoseWithCovarianceStamped:
        msg = PoseWithCovarianceStamped()
        msg.header.frame_id = "map"
        msg.pose.pose.orientation.w = 0.0
        return msg

    def set_(field: str, value: object) -> Callable[[KeyframeMsg], None]:
        return lambda m: setattr(m, field, value)

    def truncate_image(m: KeyframeMsg) -> None:
        m.image.data = bytes(m.image.data)[:100]

    return [
        ("keyframe empty id", "keyframe", bad_keyframe(set_("id", ""))),
        ("keyframe 64 KB id", "keyframe", bad_keyframe(set_("id", "k" * 65536))),
        ("keyframe truncated image", "keyframe", bad_keyframe(truncate_image)),
        ("odometry nan", "odometry", nan_odometry),
        ("initialpose zero quaternion", "initialpose", zero_quaternion_pose),
    ]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    tmp = tmp_path_factory.mktemp("fuzz")
    overrides = (
        # a loaded CI machine may deliver a camera_info late: images wait for it long enough not to be skipped
        "/**:\n  ros__parameters:\n    image_transport: compressed\n    diagnostics_period_s: 0.2\n"
        "    pending_image_timeout_s: 5.0\n"
        "    matcher:\n      type: sift\n    qos_overrides:\n"
        "      /image/compressed:\n        subscription:\n          reliability: reliable\n          depth: 100\n"
        "      /camera_info:\n        subscription:\n          reliability: reliable\n          depth: 100\n"
    )
    with running_node(tmp, overrides, 150 + os.getpid() % 40) as process:
        yield process


def test_fuzzed_node_keeps_running_and_accounts_for_every_message(node: subprocess.Popen, request) -> None:
    total = 10_000 if request.config.getoption("--run-slow") else 500
    config = PairConfig(width=320, height=240, nuisances=False)
    sequence = make_sequence(7, n_frames=36, keyframe_every=2, config=config)
    rclpy.init()
    probe = rclpy.create_node("fuzz_probe")
    statuses: dict[int, LocalizationStatus] = {}
    diagnostics: list[dict[str, str]] = []
    probe.create_subscription(
        LocalizationStatus, f"{NODE}/status", lambda m: statuses.setdefault(conversions.stamp_to_ns(m.header.stamp), m),
        1000,
    )  # fmt: skip
    probe.create_subscription(
        DiagnosticArray, "/diagnostics",
        lambda m: diagnostics.extend(
            {kv.key: kv.value for kv in s.values} for s in m.status if s.hardware_id == NODE
        ),
        10,
    )  # fmt: skip
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    latched = QoSProfile(
        depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
    )
    images = probe.create_publisher(CompressedImage, "/image/compressed", reliable)
    infos = probe.create_publisher(CameraInfo, "/camera_info", reliable)
    publishers = {
        "keyframe": probe.create_publisher(KeyframeMsg, "/keyframes", latched),
        "odometry": probe.create_publisher(Odometry, "/odom", reliable),
        "initialpose": probe.create_publisher(PoseWithCovarianceStamped, "/initialpose", reliable),
    }

    def spin_until(
        condition: Callable[[], bool], timeout_s: float, what: str, detail: Callable[[], object] = str
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert node.poll() is None, f"the node exited (code {node.returncode}) while waiting for {what}"
            assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what} {detail()}"
            rclpy.spin_once(probe, timeout_sec=0.02)

    def latest() -> dict[str, str]:
        return diagnostics[-1] if diagnostics else {}

    def send_image(view, stamp_ns: int, payload: bytes, mutate: Callable[[CameraInfo], None]) -> None:
        header = Header(stamp=conversions.ns_to_stamp(stamp_ns), frame_id="camera")
        info = conversions.intrinsics_to_camera_info(view.intrinsics, header)
        mutate(info)
        infos.publish(info)
        images.publish(CompressedImage(header=header, format="png", data=list(payload)))

    try:
        keyframes = []
        for i, view in enumerate(sequence.keyframes):
            kf = Keyframe(f"kf{i}", i, "map", view.image, view.intrinsics, view.T_world_camera, view.depth)
            keyframes.append(conversions.keyframe_to_msg(kf))
            publishers["keyframe"].publish(keyframes[-1])
        count = len(keyframes)
        spin_until(lambda: latest().get("keyframes") == str(count), 60, "the map")
        view = sequence.queries[2]
        send_image(view, 1, _png(view.image), lambda _: None)  # warm up: one good frame
        spin_until(lambda: 1 in statuses, 60, "the first good frame")
        rss_before = 0  # taken halfway: by then every code path and DDS queue has allocated what it keeps

        frame_defects, others = image_defects(view.image), other_defects(keyframes[0])

        def missing_names() -> list[str]:
            return [names[s] for s in image_stamps if s not in statuses]

        sent: Counter[str] = Counter()
        image_stamps: list[int] = []
        names: dict[int, str] = {}
        for n in range(total):
            if n == total // 2:
                spin_until(lambda: all(s in statuses for s in image_stamps), 60, "the warm-up's statuses")
                rss_before = _rss_kb(node.pid)
            stamp = 1_000_000_000 + n * 100_000_000  # apart by more than camera_info_tolerance_s
            if n % 3:  # two thirds images and calibrations, a third the other topics
                name, payload, mutate = frame_defects[n % len(frame_defects)]
                send_image(view, stamp, payload(), mutate)
                image_stamps.append(stamp)
                names[stamp] = name
            else:
                _, category, make = others[(n // 3) % len(others)]
                publishers[category].publish(make())
                sent[category] += 1
            if n % 10 == 9:  # fewer statuses in flight than the node's status queue holds (10): none is lost
                spin_until(lambda: not missing_names(), 60, "statuses of the fuzz; missing:", missing_names)
        spin_until(lambda: all(s in statuses for s in image_stamps), 120, "a status for every malformed image")
        for category, n in sent.items():
            what = f"{n} {category} rejections"
            spin_until(lambda c=category, n=n: int(latest().get(f"rejected.{c}", 0)) >= n, 60, what)
        rejected = [statuses[s] for s in image_stamps]
        assert all(s.state == LocalizationStatus.STATE_REJECTED and s.reason for s in rejected)
        time.sleep(0.5)
        rclpy.spin_once(probe, timeout_sec=0.3)
        for category, n in sent.items():  # exactly what was sent: nothing lost, nothing counted twice
            assert int(latest()[f"rejected.{category}"]) == n, (category, latest())

        rss_after = _rss_kb(node.pid)
        localized = 0
        for k, good in enumerate(sequence.queries[:4]):
            stamp = 2_000_000_000_000 + k * 100_000_000
            send_image(good, stamp, _png(good.image), lambda _: None)
            spin_until(lambda s=stamp: s in statuses, 60, "a good frame after the fuzz")
            localized += statuses[stamp].state == LocalizationStatus.STATE_LOCALIZED
        assert localized >= 3
        growth = rss_after / rss_before - 1.0
        print(f"fuzz: {total} messages, RSS halfway {rss_before} kB -> after all {rss_after} kB ({growth:+.1%})")
        assert growth < 0.05
        assert node.poll() is None
    finally:
        probe.destroy_node()
        rclpy.shutdown()


def raw_defects(frame: np.ndarray) -> list[tuple[str, Callable[[Header], Image]]]:
    """Malformed raw sensor_msgs/Image messages: (name, factory given the header)."""

    def good(header: Header) -> Image:
        return conversions.rgb_to_image(frame, header)

    def with_(**changes: object) -> Callable[[Header], Image]:
        def make(header: Header) -> Image:
            msg = good(header)
            for name, value in changes.items():
                setattr(msg, name, value)
            return msg

        return make

    def truncated(header: Header) -> Image:
        msg = good(header)
        msg.data = bytes(msg.data)[:1000]
        return msg

    return [
        ("unknown encoding", with_(encoding="yuv9")),
        ("truncated data", truncated),
        ("declared 100000x100000", with_(width=100_000, height=100_000)),
        ("step shorter than a row", with_(step=frame.shape[1] * 3 - 1)),
        ("empty", with_(width=0, height=0, step=0, data=b"")),
        ("16-bit colour", with_(encoding="rgb16")),
    ]


@pytest.fixture(scope="module")
def raw_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    overrides = (
        "/**:\n  ros__parameters:\n    diagnostics_period_s: 0.2\n    pending_image_timeout_s: 5.0\n"
        "    matcher:\n      type: sift\n    qos_overrides:\n"
        "      /raw/image:\n        subscription:\n          reliability: reliable\n          depth: 100\n"
        "      /raw/camera_info:\n        subscription:\n          reliability: reliable\n          depth: 100\n"
    )
    with running_node(tmp_path_factory.mktemp("fuzz_raw"), overrides, 190 + os.getpid() % 30, "-r", "__ns:=/raw") as p:
        yield p


def test_fuzzed_raw_images_get_a_rejection_each_and_good_frames_still_localize(raw_node: subprocess.Popen) -> None:
    from support.node_probe import Probe, localize, publish_map, send_frame, status_for

    sequence = make_sequence(7, n_frames=36, keyframe_every=2, config=PairConfig(width=320, height=240,
                                                                                nuisances=False))  # fmt: skip
    rclpy.init()
    probe = Probe("/raw")
    try:
        publish_map(probe, sequence)
        view = sequence.queries[1]
        defects = raw_defects(view.image)
        stamps = []
        for n in range(120):
            name, make = defects[n % len(defects)]
            stamp = 1_000_000_000 + n * 100_000_000
            header = Header(stamp=conversions.ns_to_stamp(stamp), frame_id="camera")
            send_frame(probe, view, stamp, image=make(header))
            stamps.append((stamp, name))
            if n % 10 == 9:
                probe.spin_until(lambda: all(status_for(probe, s) for s, _ in stamps), 60, "the statuses")
            assert raw_node.poll() is None, f"the node exited after '{name}'"
        for stamp, name in stamps:
            status = status_for(probe, stamp)
            assert status.state == LocalizationStatus.STATE_REJECTED and status.reason, (name, status.reason)
        probe.spin_until(lambda: int(probe.latest_diagnostics().get("rejected.image", 0)) >= len(stamps), 20,
                         "every rejection counted")  # fmt: skip
        assert int(probe.latest_diagnostics()["rejected.image"]) == len(stamps)
        good = [localize(probe, v, 90_000_000_000 + i * 100_000_000) for i, v in enumerate(sequence.queries[:4])]
        localized = [s for s in good if s.state == LocalizationStatus.STATE_LOCALIZED]
        assert len(localized) >= 3, [(s.state, s.reason) for s in good]
    finally:
        probe.node.destroy_node()
        rclpy.shutdown()
