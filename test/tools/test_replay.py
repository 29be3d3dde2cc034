"""``loftr-ros replay`` in a second process, received here over DDS: count, content, order and timing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from std_msgs.msg import String

from loftr_ros import conversions
from loftr_ros.bags import BagWriter
from loftr_ros.bags.topics import KEYFRAME_QOS, STREAM_QOS, qos_for_topic

REPO = Path(__file__).resolve().parents[2]
START_NS = 1_700_000_000_000_000_000
GAPS_MS = (40, 90, 60, 130, 50)  # irregular spacing, so a constant-rate player would fail


@pytest.fixture
def ros_domain(monkeypatch: pytest.MonkeyPatch) -> int:
    """A DDS domain of our own, so that parallel runs never see each other."""
    domain = 100 + os.getpid() % 100
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    return domain


def _chatter_bag(path: Path, n: int = 16) -> list[int]:
    stamps = [START_NS]
    for i in range(n - 1):
        stamps.append(stamps[-1] + GAPS_MS[i % len(GAPS_MS)] * 1_000_000)
    with BagWriter(path, "mcap") as writer:
        for i, stamp in enumerate(stamps):
            writer.write("/clock", Clock(clock=conversions.ns_to_stamp(stamp)), stamp)  # left out by replay
            writer.write("/chatter", String(data=f"message {i}"), stamp)
    return stamps


def _replay_and_receive(bag: Path, rate: float, domain: int) -> tuple[list[tuple[float, str]], list[int], str]:
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node("replay_test_receiver", context=context)
    received: list[tuple[float, str]] = []
    clocks: list[int] = []
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
    node.create_subscription(String, "/chatter", lambda m: received.append((time.monotonic(), m.data)), reliable)
    node.create_subscription(Clock, "/clock", lambda m: clocks.append(conversions.stamp_to_ns(m.clock)), reliable)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    command = [
        sys.executable, "-m", "loftr_ros.cli", "replay", str(bag), "--rate", str(rate),
        "--wait-for-subscribers", "20", "--topics", "/chatter", "/clock",
    ]  # fmt: skip
    player = subprocess.Popen(command, cwd=REPO, env=dict(os.environ), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while player.poll() is None and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.002)
        end = time.monotonic() + 0.5  # what is still in flight
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.01)
    finally:
        if player.poll() is None:
            player.kill()
        output = player.communicate(timeout=10)[0]
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
    assert player.returncode == 0, output
    return received, clocks, output


@pytest.mark.parametrize("rate", [1.0, 2.0])
def test_replay_publishes_every_message_in_order_at_recorded_timing(
    tmp_path: Path, ros_domain: int, rate: float
) -> None:
    stamps = _chatter_bag(tmp_path / "chatter")
    received, clocks, output = _replay_and_receive(tmp_path / "chatter", rate, ros_domain)

    assert [data for _, data in received] == [f"message {i}" for i in range(len(stamps))]
    # each message at its recorded time from the start, scaled by the rate: measured at the subscriber, so
    # judged on the median and the 90th percentile (a loaded CI machine delays a message now and then);
    # the first message may wait for the subscription to match
    recorded = (np.array(stamps, np.float64) - stamps[0]) / 1e9 / rate
    offsets = np.array([t for t, _ in received]) - recorded
    late = np.abs(offsets[1:] - np.median(offsets[1:]))
    assert np.median(late) < 0.015 and np.percentile(late, 90) < 0.05, f"timing errors {np.round(late, 4)}"
    # one clock: the bag's time, never beyond the last message, ending at it, and never going back
    assert clocks, "no /clock received"
    assert clocks == sorted(clocks)
    assert clocks[-1] == stamps[-1]
    assert stamps[0] <= clocks[0]
    assert f"Replayed {len(stamps)} messages" in output


def test_keyframes_are_latched_and_streams_are_not() -> None:
    assert qos_for_topic("/keyframes") == KEYFRAME_QOS
    assert KEYFRAME_QOS.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert KEYFRAME_QOS.reliability == ReliabilityPolicy.RELIABLE
    assert qos_for_topic("/image") == STREAM_QOS
    assert STREAM_QOS.durability == DurabilityPolicy.VOLATILE


def test_start_offset_loop_and_topic_selection_in_process(tmp_path: Path, ros_domain: int) -> None:
    from loftr_ros.bags import BagReader
    from loftr_ros.bags.replay import BagPlayer, ReplayOptions
    from loftr_ros.errors import BagError

    stamps = _chatter_bag(tmp_path / "chatter")
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain)
    node = rclpy.create_node("replay_test_player", context=context)
    try:
        with BagReader(tmp_path / "chatter") as reader:
            offset = BagPlayer(node, reader, ReplayOptions(rate=50.0, start_offset_s=0.3))
            assert offset.topics == ["/chatter"]  # the recorded /clock is left out: the player makes its own
            stats = offset.play()
            assert stats.per_topic == {"/chatter": sum(s >= START_NS + 300_000_000 for s in stamps)}
            started = time.monotonic()
            looping = BagPlayer(node, reader, ReplayOptions(rate=20.0, loop=True, topics=("/chatter",)))
            stats = looping.play(should_stop=lambda: time.monotonic() - started > 0.3)
            assert stats.passes >= 2  # one pass lasts about 0.05 s at rate 20
            assert stats.messages >= len(stamps)
            with pytest.raises(BagError, match=r"has no topic\(s\) /missing"):
                BagPlayer(node, reader, ReplayOptions(topics=("/missing",)))
            with pytest.raises(BagError, match="--rate must be positive"):
                BagPlayer(node, reader, ReplayOptions(rate=0.0))
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
