"""Play a bag over DDS at its recorded timing with /clock: ``ros2 bag play --clock`` without rosbag2.

Messages are published as the CDR bytes stored in the bag (rclpy's ``Publisher.publish(bytes)``), so
nothing is deserialized on the way; each topic gets a publisher of its recorded type, the keyframe map
reliable + transient local (late joiners still get it), every other topic reliable + volatile (which
serves best-effort sensor subscribers too). The clock is the bag's record time, published at
``clock_hz`` and before every message; a recorded ``/clock`` topic is then left out so that there is one
clock only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rclpy.duration import Duration
from rosgraph_msgs.msg import Clock

from loftr_ros import conversions
from loftr_ros.bags import topics as bag_topics
from loftr_ros.bags.reader import BagReader
from loftr_ros.bags.types import message_class
from loftr_ros.errors import BagError

logger = logging.getLogger("loftr_ros.bags")


@dataclass(frozen=True)
class ReplayOptions:
    """How a bag is played."""

    rate: float = 1.0  # playback speed: 2 plays twice as fast as recorded
    topics: tuple[str, ...] = ()  # topics to play (empty = all)
    loop: bool = False  # start again at the end, until interrupted
    start_offset_s: float = 0.0  # skip this much of the bag's beginning, seconds of record time
    clock: bool = True  # publish /clock from the bag's record time (and drop a recorded /clock)
    clock_hz: float = 40.0  # /clock messages per second of wall time between messages (rosbag2's default)
    delay_s: float = 0.0  # wait this long after creating the publishers, before the first message
    wait_for_subscribers_s: float = 0.0  # wait up to this long for every publisher to have a subscriber

    def validate(self) -> None:
        if not self.rate > 0:
            raise BagError(f"--rate must be positive, got {self.rate}")
        if self.start_offset_s < 0 or self.delay_s < 0 or self.wait_for_subscribers_s < 0:
            raise BagError("--start-offset, --delay and --wait-for-subscribers must be >= 0")
        if not self.clock_hz > 0:
            raise BagError(f"--clock-hz must be positive, got {self.clock_hz}")


@dataclass
class ReplayStats:
    """What a replay published."""

    messages: int = 0
    passes: int = 0
    per_topic: dict[str, int] | None = None
    wall_s: float = 0.0


class BagPlayer:
    """Publishes one bag from an rclpy node; :meth:`play` blocks until the bag (or ``should_stop``) ends.

    Raises:
        BagError: a requested topic is not in the bag, or a type has no installed Python class.
    """

    def __init__(self, node: Any, reader: BagReader, options: ReplayOptions | None = None) -> None:
        self.options = options or ReplayOptions()
        self.options.validate()
        self.node, self.reader = node, reader
        bag_topics_types = reader.topics
        wanted = list(self.options.topics) or list(bag_topics_types)
        reader.require(wanted)
        if self.options.clock and bag_topics.CLOCK_TOPIC in wanted:
            wanted.remove(bag_topics.CLOCK_TOPIC)
            logger.info("publishing /clock from the bag's time; the recorded /clock is left out")
        self.topics = wanted
        self._publishers = {
            topic: node.create_publisher(message_class(bag_topics_types[topic]), topic, bag_topics.qos_for_topic(topic))
            for topic in wanted
        }
        self._clock_pub = (
            node.create_publisher(Clock, bag_topics.CLOCK_TOPIC, bag_topics.STREAM_QOS) if self.options.clock else None
        )
        self._last_clock_ns = -1

    def wait_for_subscribers(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """True once every topic has a subscriber, False after ``wait_for_subscribers_s``."""
        deadline = time.monotonic() + self.options.wait_for_subscribers_s
        while not should_stop():
            waiting = [t for t, p in self._publishers.items() if p.get_subscription_count() == 0]
            if not waiting:
                return True
            if time.monotonic() >= deadline:
                logger.warning("no subscriber yet on %s; playing anyway", ", ".join(waiting))
                return False
            time.sleep(0.02)
        return False

    def _publish_clock(self, stamp_ns: int) -> None:
        if self._clock_pub is not None and stamp_ns != self._last_clock_ns:
            self._clock_pub.publish(Clock(clock=conversions.ns_to_stamp(stamp_ns)))
            self._last_clock_ns = stamp_ns

    def _wait_until(self, target: float, bag_time: Callable[[float], int], should_stop: Callable[[], bool]) -> None:
        period = 1.0 / self.options.clock_hz
        next_tick = time.monotonic()
        while not should_stop():
            now = time.monotonic()
            if now >= target:
                return
            if self._clock_pub is not None and now >= next_tick:
                self._publish_clock(bag_time(now))
                next_tick = now + period
            wake = min(target, next_tick) if self._clock_pub is not None else target
            time.sleep(max(0.0, min(wake - now, 0.05)))

    def play(self, should_stop: Callable[[], bool] = lambda: False) -> ReplayStats:
        """Publish the bag at its recorded timing divided by ``rate``; repeat with ``loop``."""
        opts = self.options
        if opts.wait_for_subscribers_s > 0:
            self.wait_for_subscribers(should_stop)
        if opts.delay_s > 0:
            time.sleep(opts.delay_s)
        stats = ReplayStats(per_topic=dict.fromkeys(self.topics, 0))
        first_ns = self.reader.start_ns + round(opts.start_offset_s * 1e9)
        started = time.monotonic()
        while not should_stop():
            wall0 = time.monotonic()

            def bag_time(wall: float, wall0: float = wall0) -> int:
                return first_ns + round((wall - wall0) * opts.rate * 1e9)

            count = 0
            for message in self.reader.messages(self.topics, start_ns=first_ns):
                target = wall0 + (message.stamp_ns - first_ns) / 1e9 / opts.rate
                self._wait_until(target, bag_time, should_stop)
                if should_stop():
                    break
                self._publish_clock(message.stamp_ns)
                self._publishers[message.topic].publish(message.data)
                stats.per_topic[message.topic] += 1  # type: ignore[index]
                count += 1
            stats.messages += count
            stats.passes += 1
            if not opts.loop or count == 0:
                break
            self._last_clock_ns = -1  # time jumps back at the start of the next pass, as with rosbag2
        stats.wall_s = time.monotonic() - started
        self.flush()
        return stats

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until reliable subscribers acknowledged everything published.

        Without it the process can exit while DDS still holds the last message for a resend, and a
        subscriber misses the end of the bag.
        """
        timeout = Duration(seconds=timeout_s)
        publishers = [*self._publishers.values(), *([self._clock_pub] if self._clock_pub else [])]
        acked = all([publisher.wait_for_all_acked(timeout) for publisher in publishers])
        if not acked:
            logger.warning("some subscribers did not acknowledge the last messages within %.1f s", timeout_s)
        return acked
