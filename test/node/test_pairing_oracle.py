"""The node's image/camera_info pairing against the real message_filters.ApproximateTimeSynchronizer.

message_filters is the oracle only: the node keeps its own pairing (StampPairer) so that it runs where
message_filters is absent. Both see the same stamp sequences in the same arrival order: 30 Hz camera with
stamp jitter between image and camera_info, dropped messages on either topic, and arrivals reordered.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image

from loftr_ros.node.frame_sync import StampPairer

if importlib.util.find_spec("message_filters") is None:
    pytest.skip(
        "message_filters is not installed (no ROS 2 distribution here; scripts/setup_env.sh installs it from "
        "../shared/ros2-python when that folder is there)",
        allow_module_level=True,
    )

import message_filters

PERIOD_NS = 33_333_333
SLOP_S = 0.010


def stamped(kind: type, stamp_ns: int) -> Image | CameraInfo:
    msg = kind()
    msg.header.stamp = Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
    return msg


def arrivals(seed: int, frames: int = 300) -> list[tuple[str, int]]:
    """(topic, stamp_ns) in arrival order."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(frames):
        t = 1_000_000_000 + i * PERIOD_NS
        image_stamp = t + int(rng.integers(-3_000_000, 3_000_000))  # jitter well inside the slop
        info_stamp = t + int(rng.integers(-3_000_000, 3_000_000))
        if rng.random() > 0.1:  # 10% of images dropped
            events.append((t + int(rng.integers(0, 40_000_000)), "image", image_stamp))
        if rng.random() > 0.1:  # 10% of camera_infos dropped
            events.append((t + int(rng.integers(0, 40_000_000)), "info", info_stamp))
    events.sort()  # arrival time: up to 40 ms of transport delay reorders neighbouring frames and topics
    return [(topic, stamp) for _, topic, stamp in events]


def paired_by_message_filters(sequence: list[tuple[str, int]]) -> set[int]:
    images, infos = message_filters.SimpleFilter(), message_filters.SimpleFilter()
    sync = message_filters.ApproximateTimeSynchronizer([images, infos], queue_size=10, slop=SLOP_S)
    paired: set[int] = set()
    sync.registerCallback(lambda image, info: paired.add(image.header.stamp.sec * 10**9 + image.header.stamp.nanosec))
    for topic, stamp in sequence:
        if topic == "image":
            images.signalMessage(stamped(Image, stamp))
        else:
            infos.signalMessage(stamped(CameraInfo, stamp))
    return paired


def paired_by_the_node(sequence: list[tuple[str, int]]) -> set[int]:
    pairer: StampPairer[int, int] = StampPairer(tolerance_ns=int(SLOP_S * 1e9), pending_timeout_s=1.0)
    paired: set[int] = set()
    for topic, stamp in sequence:
        if topic == "image":
            pair = pairer.add_image(stamp, stamp, now_s=0.0)
            if pair is not None:
                paired.add(pair[1])
        else:
            paired.update(image for _, image in pairer.add_info(stamp, stamp))
    return paired


@pytest.mark.parametrize("seed", range(5))
def test_the_node_pairs_the_same_frames_as_approximate_time_synchronizer(seed: int) -> None:
    sequence = arrivals(seed)
    expected = paired_by_message_filters(sequence)
    assert len(expected) > 200  # the sequences exercise pairing, not only drops
    assert paired_by_the_node(sequence) == expected
