"""Message types of our bags: rosbags' typestore (for bag metadata) and rclpy classes (for data).

Bags hold CDR bytes. We serialize and deserialize them with rclpy, so that every message is an rclpy
message and :mod:`loftr_ros.conversions` stays the one place of conversion; rosbags' typestore is only
needed for what a bag records about each type (its definition and RIHS01 hash), and it learns our own
``loftr_ros/msg/*`` types from the ``.msg`` files.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from loftr_ros.errors import BagError

PACKAGE = "loftr_ros"
TYPESTORE_DISTRO = Stores.ROS2_KILTED  # the distribution our rclpy wheels come from


def msg_dirs() -> list[Path]:
    """Folders that may hold our ``.msg`` files: a source checkout's (when running from one), then the
    install prefixes (``share/loftr_ros/msg``), as a sourced workspace or the venv lays them out."""
    checkout = Path(__file__).resolve().parents[2]
    dirs = [checkout / "msg"] if (checkout / "package.xml").is_file() else []
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    prefixes.append(sys.prefix)
    dirs += [Path(prefix) / "share" / PACKAGE / "msg" for prefix in prefixes]
    return dirs


@functools.lru_cache(maxsize=1)
def typestore() -> Typestore:
    """ROS 2 Kilted's standard types plus ``loftr_ros/msg/*`` (built once per process)."""
    store = get_typestore(TYPESTORE_DISTRO)
    for folder in msg_dirs():
        files = sorted(folder.glob("*.msg"))
        if files:
            types: dict[str, Any] = {}
            for path in files:
                types.update(get_types_from_msg(path.read_text(), f"{PACKAGE}/msg/{path.stem}"))
            store.register(types)
            return store
    searched = ", ".join(str(d) for d in msg_dirs())
    msg = f"cannot find the loftr_ros .msg files (searched {searched}); run scripts/setup_env.sh"
    raise BagError(msg)


def message_class(msgtype: str) -> type:
    """The rclpy message class of a type name such as ``sensor_msgs/msg/Image``."""
    parts = msgtype.split("/")
    if len(parts) != 3 or parts[1] != "msg":
        raise BagError(f"message type {msgtype!r} is not of the form 'package/msg/Name'")
    try:
        return getattr(importlib.import_module(f"{parts[0]}.msg"), parts[2])
    except (ImportError, AttributeError):
        msg = (
            f"no Python message class for {msgtype}: install its package"
            f" (the ros-{parts[0].replace('_', '-')} wheel) or leave its topic out"
        )
        raise BagError(msg) from None


def type_name(msg: Any) -> str:
    """``package/msg/Name`` of an rclpy message instance."""
    module = type(msg).__module__.split(".")
    return f"{module[0]}/msg/{type(msg).__name__}"
