"""The node's live mapping mode over DDS: frames posed by a trusted pose topic become keyframes as the camera
moves, and the map keeps their poses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from loftr_ros.srv import SaveMap
from std_msgs.msg import Header
from support.node_probe import Probe, localize
from support.node_process import running_node

from loftr_ros import conversions
from loftr_ros.localization.keyframe_selection import select_by_motion
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.synthetic.pairs import PairConfig, make_sequence

NAMESPACE = "/mapper"
OVERRIDES = (
    "/**:\n  ros__parameters:\n    matcher:\n      type: sift\n    diagnostics_period_s: 0.2\n"
    "    mapping:\n      enabled: true\n      min_distance_m: 0.8\n      min_rotation_deg: 60.0\n"
    "    qos_overrides:\n"
    f"      {NAMESPACE}/image:\n        subscription:\n          reliability: reliable\n"
    f"      {NAMESPACE}/camera_info:\n        subscription:\n          reliability: reliable\n"
)


def test_frames_with_trusted_poses_become_keyframes_as_the_camera_moves(tmp_path: Path) -> None:
    sequence = make_sequence(9, n_frames=24, keyframe_every=100, config=PairConfig(width=320, height=240))
    views = sequence.queries  # every frame: keyframe_every beyond the sequence
    with running_node(tmp_path, OVERRIDES, 10 + os.getpid() % 10, "-r", f"__ns:={NAMESPACE}"):
        rclpy.init()
        probe = Probe(NAMESPACE)
        poses = probe.node.create_publisher(PoseStamped, f"{NAMESPACE}/mapping_pose", 50)
        try:
            probe.spin_until(lambda: probe.latest_diagnostics().get("lifecycle_state") == "active", 60, "the node")
            for i, view in enumerate(views):
                stamp = 1_000_000_000 + i * 200_000_000
                header = Header(stamp=conversions.ns_to_stamp(stamp), frame_id="map")
                poses.publish(PoseStamped(header=header, pose=conversions.matrix_to_pose(view.T_world_camera)))
                probe.spin_for(0.1)  # the pose arrives before its image
                localize(probe, view, stamp)
            expected = select_by_motion([v.T_world_camera for v in views], 0.8, 60.0)
            probe.spin_until(lambda: probe.latest_diagnostics().get("keyframes") == str(len(expected)), 20,
                             f"{len(expected)} mapped keyframes")  # fmt: skip
            saved = probe.call(SaveMap, f"{NAMESPACE}/loftr_localizer/save_map",
                               SaveMap.Request(path=str(tmp_path / "mapped.db")))  # fmt: skip
            assert saved.success, saved.message
        finally:
            probe.node.destroy_node()
            rclpy.shutdown()
    with KeyframeStore(tmp_path / "mapped.db", readonly=True) as store:
        infos = sorted(store.list(), key=lambda info: info.stamp_ns)
    assert 2 <= len(infos) < len(views)
    for info, index in zip(infos, expected, strict=True):
        np.testing.assert_allclose(info.T_map_camera, views[index].T_world_camera, atol=1e-6)
