"""The ROS 2 adapter: the loftr_localizer node and its helpers. Everything ROS-specific lives here and in
:mod:`loftr_ros.conversions`; ``frame_sync``, ``stats`` and ``stop`` are plain Python."""

from __future__ import annotations

from loftr_ros.node.stop import StopRequest


def main(args: list[str] | None = None) -> int:
    """Entry point of ``loftr-ros-localizer`` and ``ros2 run loftr_ros loftr_localizer``.

    SIGINT and SIGTERM are taken from the first line: importing the node (torch, rclpy) takes seconds, and
    a signal in that time must stop it cleanly (exit 0, no traceback) as at any later moment."""
    stop = StopRequest()
    try:
        from loftr_ros.node.localizer_node import main as run_node
    except KeyboardInterrupt:
        return 0
    return run_node(args, stop)
