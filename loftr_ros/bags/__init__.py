"""Rosbag2 bags without ROS: write (synthetic, TUM), read, and replay over DDS; ``topics`` names them.

Messages travel as rclpy messages serialized with rclpy, so :mod:`loftr_ros.conversions` stays the only
place where messages become arrays; rosbags only stores the bytes and each type's definition.
``loftr_ros.bags.topics`` imports no rosbags, so that the node can take its topic names from it; the
reader and writer load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BagMessage", "BagReader", "BagWriter"]


def __getattr__(name: str) -> Any:
    if name in ("BagMessage", "BagReader"):
        from loftr_ros.bags import reader

        return getattr(reader, name)
    if name == "BagWriter":
        from loftr_ros.bags.writer import BagWriter

        return BagWriter
    raise AttributeError(f"module 'loftr_ros.bags' has no attribute {name!r}")
