"""The ROS 2 adapter: the loftr_localizer node and its helpers. Everything ROS-specific lives here and in
:mod:`loftr_ros.conversions`; ``frame_sync`` and ``stats`` are plain Python."""

from __future__ import annotations

import signal


def main(args: list[str] | None = None) -> int:
    """Entry point of ``loftr-ros-localizer`` and ``ros2 run loftr_ros loftr_localizer``.

    Importing the node (torch, rclpy) takes seconds; a SIGINT or SIGTERM in that time stops it cleanly
    (exit 0, no traceback): nothing has been acknowledged yet. From ``rclpy.init`` on, rclpy's own
    handlers take over."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        from loftr_ros.node.localizer_node import main as run_node
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return run_node(args)
