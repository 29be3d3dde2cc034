"""Read a rosbag2 bag (sqlite3 or MCAP) as CDR bytes or rclpy messages, without ROS installed."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader

from loftr_ros.bags.types import message_class
from loftr_ros.errors import BagError


@dataclass(frozen=True)
class BagMessage:
    """One recorded message: its topic, type, record time and CDR bytes."""

    topic: str
    msgtype: str  # package/msg/Name
    stamp_ns: int  # record (log) time, nanoseconds on the recording's clock
    data: bytes  # CDR, with its 4-byte encapsulation header

    def decode(self) -> Any:
        """The rclpy message (the class comes from the installed ROS packages)."""
        return deserialize_message(self.data, message_class(self.msgtype))


class BagReader:
    """An existing bag; use as a context manager (or ``open``/``close``).

    Raises:
        BagError: the path is not a readable rosbag2 bag; the message names it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f"bag {self.path} does not exist")
        try:
            self._reader = Reader(self.path)
        except Exception as error:  # rosbags raises several unrelated types for unreadable bags
            msg = f"{self.path} is not a readable rosbag2 bag (a folder with metadata.yaml): {error}"
            raise BagError(msg) from None

    def open(self) -> BagReader:
        try:
            self._reader.open()
        except Exception as error:
            raise BagError(f"cannot open bag {self.path}: {error}") from None
        return self

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> BagReader:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def topics(self) -> dict[str, str]:
        """Topic -> message type (``package/msg/Name``)."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    @property
    def message_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self._reader.connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        return counts

    @property
    def start_ns(self) -> int:
        """Record time of the first message, nanoseconds."""
        return int(self._reader.start_time)

    @property
    def end_ns(self) -> int:
        """Record time of the last message, nanoseconds."""
        return int(self._reader.end_time)

    def require(self, topics: Collection[str]) -> None:
        """Raise :class:`BagError` naming the topics the bag lacks."""
        missing = sorted(set(topics) - set(self.topics))
        if missing:
            have = ", ".join(sorted(self.topics)) or "none"
            raise BagError(f"bag {self.path} has no topic(s) {', '.join(missing)} (it has: {have})")

    def messages(
        self, topics: Collection[str] | None = None, start_ns: int | None = None, stop_ns: int | None = None
    ) -> Iterator[BagMessage]:
        """Messages in record-time order, optionally of some topics and within [start_ns, stop_ns)."""
        connections = self._reader.connections
        if topics is not None:
            connections = [c for c in connections if c.topic in set(topics)]
            if not connections:
                return
        try:
            for connection, stamp, data in self._reader.messages(connections, start=start_ns, stop=stop_ns):
                yield BagMessage(connection.topic, connection.msgtype, int(stamp), bytes(data))
        except BagError:
            raise
        except Exception as error:
            raise BagError(f"cannot read bag {self.path}: {error}") from None

    def decoded(self, topic: str) -> list[tuple[int, Any]]:
        """Every message of one topic as (record time, rclpy message)."""
        return [(m.stamp_ns, m.decode()) for m in self.messages([topic])]
