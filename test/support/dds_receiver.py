"""A second process for the DDS tests: receives one Keyframe and one Matches message and writes each,
serialized as received, to OUT_DIR/<topic>.cdr. Exits 0 when both arrived, 1 on timeout."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import rclpy
from loftr_ros.msg import Keyframe, Matches
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message


def main() -> int:
    out_dir, timeout_s = Path(sys.argv[1]), float(sys.argv[2])
    rclpy.init()
    node = rclpy.create_node("dds_receiver")
    received: dict[str, bytes] = {}
    latched = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(
        Keyframe, "keyframes", lambda m: received.setdefault("keyframes", serialize_message(m)), latched
    )
    node.create_subscription(Matches, "matches", lambda m: received.setdefault("matches", serialize_message(m)), 10)
    (out_dir / "ready").touch()
    deadline = time.monotonic() + timeout_s
    try:
        while len(received) < 2 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        for topic, data in received.items():
            (out_dir / f"{topic}.cdr").write_bytes(data)
        node.destroy_node()
        rclpy.shutdown()
    return 0 if len(received) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
