"""The node with ``image_transport: compressed``: it subscribes to ``image/compressed`` and localizes PNGs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import LocalizationStatus
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.bags import topics
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic.pairs import PairConfig, make_sequence

ROOT = Path(__file__).resolve().parents[2]


def test_compressed_stream_is_localized(tmp_path: Path) -> None:
    sequence = make_sequence(
        7, n_frames=36, keyframe_every=2, config=PairConfig(width=320, height=240, nuisances=False)
    )
    override = tmp_path / "compressed.yaml"
    override.write_text("/**:\n  ros__parameters:\n    image_transport: compressed\n    matcher:\n      type: sift\n")
    env = dict(os.environ, ROS_DOMAIN_ID=str(200 + os.getpid() % 30), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "loftr_ros.node", "--ros-args", "--params-file",
               str(ROOT / "config" / "loftr_localizer.yaml"), "--params-file", str(override)]  # fmt: skip
    log = (tmp_path / "node.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    os.environ["ROS_DOMAIN_ID"] = env["ROS_DOMAIN_ID"]
    rclpy.init()
    node = rclpy.create_node("compressed_probe")
    statuses: dict[int, LocalizationStatus] = {}
    map_sizes: list[int] = []
    node.create_subscription(
        DiagnosticArray, "/diagnostics",
        lambda m: map_sizes.extend(int(kv.value) for s in m.status for kv in s.values if kv.key == "keyframes"), 10,
    )  # fmt: skip
    node.create_subscription(LocalizationStatus, "/loftr_localizer/status",
                             lambda m: statuses.setdefault(conversions.stamp_to_ns(m.header.stamp), m), 10)  # fmt: skip
    keyframes = node.create_publisher(KeyframeMsg, topics.KEYFRAMES, topics.KEYFRAME_QOS)
    images = node.create_publisher(CompressedImage, f"{topics.IMAGE}/compressed", qos_profile_sensor_data)
    infos = node.create_publisher(CameraInfo, topics.CAMERA_INFO, qos_profile_sensor_data)
    try:
        for i, view in enumerate(sequence.keyframes):
            kf = Keyframe(f"kf{i}", i, "map", view.image, view.intrinsics, view.T_world_camera, view.depth)
            keyframes.publish(conversions.keyframe_to_msg(kf))
        deadline = time.monotonic() + 60
        while (not map_sizes or map_sizes[-1] < len(sequence.keyframes)) and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)  # the whole map is in the node
        view, stamp = sequence.queries[3], 5_000_000_000
        header = Header(stamp=conversions.ns_to_stamp(stamp), frame_id="camera_optical_frame")
        deadline = time.monotonic() + 60
        while stamp not in statuses and time.monotonic() < deadline:  # until the node is up and answers
            infos.publish(conversions.intrinsics_to_camera_info(view.intrinsics, header))
            images.publish(conversions.numpy_to_compressed(view.image, "rgb8", "png", header))
            end = time.monotonic() + 1.0
            while stamp not in statuses and time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        node.destroy_node()
        rclpy.shutdown()
        process.terminate()
        process.wait(10)
    assert stamp in statuses, "no status for the compressed frame"
    status = statuses[stamp]
    assert status.state == LocalizationStatus.STATE_LOCALIZED, status.reason
