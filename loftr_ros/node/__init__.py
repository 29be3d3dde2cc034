"""The ROS 2 adapter: the loftr_localizer node and its helpers. Everything ROS-specific lives here and in
:mod:`loftr_ros.conversions`; ``frame_sync`` and ``stats`` are plain Python."""

from __future__ import annotations


def main(args: list[str] | None = None) -> int:
    """Entry point of ``loftr-ros-localizer`` and ``ros2 run loftr_ros loftr_localizer``."""
    from loftr_ros.node.localizer_node import main as run_node

    return run_node(args)
