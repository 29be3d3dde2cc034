"""Write rclpy messages into a new rosbag2 bag (sqlite3 or MCAP) with rosbags, without ROS installed."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from rclpy.serialization import serialize_message
from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError

from loftr_ros.bags.topics import LATCHED_TOPICS
from loftr_ros.bags.types import type_name, typestore
from loftr_ros.errors import BagError

logger = logging.getLogger("loftr_ros.bags")

STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
BAG_VERSION = 9  # rosbag2 metadata version written (Jazzy and later read it)

_NEVER = QosTime(sec=0, nsec=0)


def offered_qos(topic: str) -> Qos:
    """What a recorder would have seen offered on ``topic``: transient local for the keyframe map."""
    latched = topic in LATCHED_TOPICS
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=100 if latched else 10,
        reliability=QosReliability.RELIABLE,
        durability=QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE,
        deadline=_NEVER,
        lifespan=_NEVER,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_NEVER,
        avoid_ros_namespace_conventions=False,
    )


class BagWriter:
    """A new bag; use as a context manager (or ``open``/``close``). Topics are added on first write.

    Args:
        path: the bag folder to create; it must not exist.
        storage: ``sqlite3`` or ``mcap``.

    Raises:
        BagError: the storage is unknown or the folder exists.
    """

    def __init__(self, path: str | os.PathLike[str], storage: str = "sqlite3") -> None:
        if storage not in STORAGES:
            raise BagError(f"unknown bag storage {storage!r}; use one of {', '.join(STORAGES)}")
        self.path = Path(path)
        self.storage = storage
        if self.path.exists():
            raise BagError(f"bag {self.path} exists; delete it or choose another --output")
        self._writer = Writer(self.path, version=BAG_VERSION, storage_plugin=STORAGES[storage])
        self._connections: dict[str, Connection] = {}
        self.counts: dict[str, int] = {}

    def open(self) -> BagWriter:
        try:
            self._writer.open()
        except (WriterError, OSError) as error:
            raise BagError(f"cannot create bag {self.path}: {error}") from None
        return self

    def close(self) -> None:
        self._writer.close()
        logger.info(
            "wrote %s (%s): %s",
            self.path,
            self.storage,
            ", ".join(f"{t} x{n}" for t, n in self.counts.items()),
        )

    def __enter__(self) -> BagWriter:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, topic: str, msg: Any, stamp_ns: int) -> None:
        """Append an rclpy message to ``topic`` at record time ``stamp_ns`` (the bag's clock, ns)."""
        self.write_raw(topic, type_name(msg), serialize_message(msg), stamp_ns)

    def write_raw(self, topic: str, msgtype: str, data: bytes, stamp_ns: int) -> None:
        """Append CDR bytes of type ``msgtype`` (``package/msg/Name``)."""
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._writer.add_connection(
                topic, msgtype, typestore=typestore(), offered_qos_profiles=[offered_qos(topic)]
            )
            self._connections[topic] = connection
        elif connection.msgtype != msgtype:
            msg = f"bag {self.path}: topic {topic} holds {connection.msgtype}, cannot also write {msgtype}"
            raise BagError(msg)
        self._writer.write(connection, int(stamp_ns), data)
        self.counts[topic] = self.counts.get(topic, 0) + 1
