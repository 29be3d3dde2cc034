"""Our interfaces over real DDS: this process publishes, a second process receives them intact."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import Matches
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.localization.types import CameraIntrinsics, Keyframe, MatchSet

RECEIVER = Path(__file__).parent / "support" / "dds_receiver.py"


@pytest.fixture
def ros_domain(monkeypatch: pytest.MonkeyPatch) -> str:
    """A DDS domain of its own, so concurrent test runs on this machine never see each other."""
    domain = str(100 + os.getpid() % 100)
    monkeypatch.setenv("ROS_DOMAIN_ID", domain)
    return domain


def test_keyframe_and_matches_cross_processes_intact(tmp_path: Path, ros_domain: str) -> None:
    rng = np.random.default_rng(3)
    keyframe = Keyframe(
        id="kf-42",
        stamp_ns=1_700_000_000_123_456_789,
        frame_id="map",
        image=rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
        intrinsics=CameraIntrinsics(64, 48, 50.0, 51.0, 31.5, 23.5),
        T_map_camera=np.array([[0, -1, 0, 1.5], [1, 0, 0, -2.0], [0, 0, 1, 0.25], [0, 0, 0, 1.0]]),
        depth=rng.uniform(0.5, 4.0, (48, 64)).astype(np.float32),
    )
    keyframe_msg = conversions.keyframe_to_msg(keyframe, camera_frame_id="camera_optical", depth_encoding="32FC1")
    matches = MatchSet(
        "kf-42",
        rng.uniform(0, 64, (25, 2)).astype(np.float32),
        rng.uniform(0, 64, (25, 2)).astype(np.float32),
        rng.uniform(0, 1, 25).astype(np.float32),
        rng.uniform(size=25) > 0.3,
    )
    matches_msg = conversions.matches_to_msg(matches, Header(stamp=conversions.ns_to_stamp(7), frame_id="camera"))

    receiver = subprocess.Popen([sys.executable, str(RECEIVER), str(tmp_path), "30"], env=dict(os.environ))
    rclpy.init()
    node = rclpy.create_node("dds_sender")
    try:
        latched = QoSProfile(
            depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        keyframes_pub = node.create_publisher(KeyframeMsg, "keyframes", latched)
        matches_pub = node.create_publisher(Matches, "matches", 10)
        keyframes_pub.publish(keyframe_msg)  # latched: reaches the receiver whenever it joins
        deadline = time.monotonic() + 40
        while receiver.poll() is None and time.monotonic() < deadline:
            if (tmp_path / "ready").exists():
                matches_pub.publish(matches_msg)  # volatile: repeat until received
            rclpy.spin_once(node, timeout_sec=0.2)
    finally:
        node.destroy_node()
        rclpy.shutdown()
        if receiver.poll() is None:
            receiver.kill()
    assert receiver.wait(10) == 0, "the receiving process did not get both messages"

    received_keyframe = (tmp_path / "keyframes.cdr").read_bytes()
    received_matches = (tmp_path / "matches.cdr").read_bytes()
    # compared as messages: CDR padding bytes are not initialised by rclpy, so raw bytes may differ there
    assert deserialize_message(received_keyframe, KeyframeMsg) == keyframe_msg
    assert deserialize_message(received_matches, Matches) == matches_msg
    back = conversions.keyframe_from_msg(deserialize_message(received_keyframe, KeyframeMsg))
    np.testing.assert_array_equal(back.image, keyframe.image)
    np.testing.assert_array_equal(back.depth, keyframe.depth)
    np.testing.assert_allclose(back.T_map_camera, keyframe.T_map_camera, atol=1e-12)
    back_matches = conversions.matches_from_msg(deserialize_message(received_matches, Matches))
    np.testing.assert_array_equal(back_matches.keypoints_query, matches.keypoints_query)
    np.testing.assert_array_equal(back_matches.inliers, matches.inliers)
