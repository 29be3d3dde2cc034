"""The test's side of DDS for the node tests: publishers into the node, recorders of what it publishes."""

from __future__ import annotations

import time
from collections.abc import Callable

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseWithCovarianceStamped
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import LocalizationStatus, Matches
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.localization.types import Keyframe

NAMESPACE = "/robot"


class Probe:
    """The test's side of DDS: publishers into the node, recorders of what it publishes."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self.namespace, self.node_name = namespace, f"{namespace}/loftr_localizer"
        self.node: Node = rclpy.create_node("node_test_probe")
        latched = QoSProfile(
            depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        self.keyframes = self.node.create_publisher(KeyframeMsg, f"{namespace}/keyframes", latched)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.images = self.node.create_publisher(Image, f"{namespace}/image", reliable)
        self.infos = self.node.create_publisher(CameraInfo, f"{namespace}/camera_info", reliable)
        self.initial_poses = self.node.create_publisher(PoseWithCovarianceStamped, f"{namespace}/initialpose", 10)
        self.odometry = self.node.create_publisher(Odometry, f"{namespace}/odom", 50)
        self.poses: list[PoseWithCovarianceStamped] = []
        self.statuses: list[LocalizationStatus] = []
        self.matches: list[Matches] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.node.create_subscription(PoseWithCovarianceStamped, f"{self.node_name}/pose", self.poses.append, 50)
        self.node.create_subscription(LocalizationStatus, f"{self.node_name}/status", self.statuses.append, 50)
        self.node.create_subscription(Matches, f"{self.node_name}/matches", self.matches.append, 50)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 50)

    def spin_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
            rclpy.spin_once(self.node, timeout_sec=0.05)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.05)

    def latest_diagnostics(self) -> dict[str, str]:
        for array in reversed(self.diagnostics):
            for status in array.status:
                if status.hardware_id == self.node_name:
                    return {kv.key: kv.value for kv in status.values}
        return {}

    def call(self, service_type: type, name: str, request: object) -> object:
        client = self.node.create_client(service_type, name)
        self.spin_until(lambda: client.service_is_ready(), 20, f"service {name}")
        future = client.call_async(request)
        self.spin_until(future.done, 20, f"reply of {name}")
        return future.result()


def send_frame(probe: Probe, view, stamp_ns: int, image: Image | None = None, info: CameraInfo | None = None) -> None:
    header = Header(stamp=conversions.ns_to_stamp(stamp_ns), frame_id="camera_optical")
    probe.infos.publish(info or conversions.intrinsics_to_camera_info(view.intrinsics, header))
    probe.images.publish(image or conversions.rgb_to_image(view.image, header))


def status_for(probe: Probe, stamp_ns: int) -> LocalizationStatus | None:
    for status in probe.statuses:
        if conversions.stamp_to_ns(status.header.stamp) == stamp_ns:
            return status
    return None


def pose_for(probe: Probe, stamp_ns: int) -> PoseWithCovarianceStamped | None:
    return next((p for p in probe.poses if conversions.stamp_to_ns(p.header.stamp) == stamp_ns), None)


def localize(probe: Probe, view, stamp_ns: int, **kwargs: object) -> LocalizationStatus:
    """Publish one frame and wait for its status (frames one at a time, so none is dropped)."""
    send_frame(probe, view, stamp_ns, **kwargs)
    probe.spin_until(lambda: status_for(probe, stamp_ns) is not None, 60, f"the status of frame {stamp_ns}")
    return status_for(probe, stamp_ns)


def publish_map(probe: Probe, sequence) -> None:
    for index, view in enumerate(sequence.keyframes):
        keyframe = Keyframe(
            id=f"kf{index}", stamp_ns=index, frame_id="map", image=view.image, intrinsics=view.intrinsics,
            T_map_camera=view.T_world_camera, depth=view.depth,
        )  # fmt: skip
        probe.keyframes.publish(conversions.keyframe_to_msg(keyframe))
    count = len(sequence.keyframes)
    probe.spin_until(lambda: probe.latest_diagnostics().get("keyframes") == str(count), 60, f"{count} keyframes")
