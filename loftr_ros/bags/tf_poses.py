"""Poses from a bag's /tf and /tf_static: T_parent_child over time along the tree, for the frames a user names.

tf2_msgs has no rclpy wheel here, so these messages are decoded with rosbags' own types (ROS 2 Kilted's);
a chain of dynamic and static transforms is evaluated at every stamp of its dynamic links, each link
interpolated at that stamp.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from loftr_ros.bags.reader import BagReader
from loftr_ros.bags.types import typestore
from loftr_ros.errors import MapError
from loftr_ros.localization.io import Trajectory
from loftr_ros.transforms import invert_transform, pose_from_tq

TF_TOPICS = ("/tf", "/tf_static")
Link = tuple[str, str]  # (parent, child)


def _transform(t: object) -> np.ndarray:
    tr, q = t.transform.translation, t.transform.rotation  # type: ignore[attr-defined]
    return pose_from_tq([tr.x, tr.y, tr.z], [q.x, q.y, q.z, q.w])


def read_tf(reader: BagReader) -> tuple[dict[Link, np.ndarray], dict[Link, list[tuple[int, np.ndarray]]]]:
    """(static links, dynamic links with their stamped transforms) of a bag."""
    static: dict[Link, np.ndarray] = {}
    dynamic: dict[Link, list[tuple[int, np.ndarray]]] = {}
    types = typestore()
    for message in reader.messages([t for t in TF_TOPICS if t in reader.topics]):
        for t in types.deserialize_cdr(message.data, message.msgtype).transforms:
            link = (t.header.frame_id.lstrip("/"), t.child_frame_id.lstrip("/"))
            if message.topic == "/tf_static":
                static[link] = _transform(t)
            else:
                stamp = int(t.header.stamp.sec) * 1_000_000_000 + int(t.header.stamp.nanosec)
                dynamic.setdefault(link, []).append((stamp, _transform(t)))
    return static, dynamic


def _path(links: set[Link], start: str, goal: str) -> list[tuple[Link, bool]]:
    """The links from ``start`` to ``goal`` in the tree, each with whether it is walked parent -> child."""
    neighbours: dict[str, list[tuple[str, Link, bool]]] = {}
    for parent, child in links:
        neighbours.setdefault(parent, []).append((child, (parent, child), True))
        neighbours.setdefault(child, []).append((parent, (parent, child), False))
    previous: dict[str, tuple[str, Link, bool] | None] = {start: None}
    queue = deque([start])
    while queue:
        frame = queue.popleft()
        for other, link, forward in neighbours.get(frame, []):
            if other not in previous:
                previous[other] = (frame, link, forward)
                queue.append(other)
    if goal not in previous:
        known = ", ".join(sorted(neighbours)) or "none"
        raise MapError(f"no transform chain from '{start}' to '{goal}' in /tf and /tf_static (frames: {known})")
    path = []
    frame = goal
    while previous[frame] is not None:
        frame, link, forward = previous[frame]  # type: ignore[misc]
        path.append((link, forward))
    return path[::-1]


def tf_trajectory(reader: BagReader, parent: str, child: str, max_gap_ns: int = 200_000_000) -> Trajectory:
    """T_parent_child over the bag's time, from its /tf and /tf_static."""
    static, dynamic = read_tf(reader)
    path = _path(set(static) | set(dynamic), parent, child)
    series = {link: Trajectory(np.array([s for s, _ in v]), np.stack([T for _, T in v])) for link, v in
              dynamic.items() if any(link == p for p, _ in path)}  # fmt: skip
    stamps = sorted({int(s) for trajectory in series.values() for s in trajectory.stamps_ns})
    if not stamps:  # a static chain: the same pose all along the bag
        stamps = [reader.start_ns, reader.end_ns]
    out_stamps, poses = [], []
    for stamp in stamps:
        T = np.eye(4)
        for link, forward in path:
            step = series[link].at(stamp, max_gap_ns) if link in series else static[link]
            if step is None:
                break
            T = T @ (step if forward else invert_transform(step))
        else:
            out_stamps.append(stamp)
            poses.append(T)
    if not poses:
        raise MapError(f"the chain from '{parent}' to '{child}' is never complete at one time in this bag")
    return Trajectory(np.array(out_stamps), np.stack(poses))
