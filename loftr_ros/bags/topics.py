"""The topic names, frames and QoS of loftr_ros bags, in one place.

The node subscribes to the relative names (``image``, ``camera_info``, ``depth``, ``keyframes``, ``odom``), which
resolve to the absolute names below when it runs in the root namespace; bags store absolute names, so a
bag written here plays straight into the node without remapping. ``/clock`` and the ground truth are
absolute on purpose: there is one clock and one ground truth per system.
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

# Relative names, as the node declares its subscriptions.
IMAGE = "image"  # sensor_msgs/Image, the query camera stream (rgb8 in our bags)
CAMERA_INFO = "camera_info"  # sensor_msgs/CameraInfo, one per image, same header stamp
DEPTH = "depth"  # sensor_msgs/Image, 32FC1 metres registered to ``image`` (optional)
KEYFRAMES = "keyframes"  # loftr_ros/Keyframe, reliable + transient local (latched)
ODOM = "odom"  # nav_msgs/Odometry, T_odom_camera (optional prior)

# Absolute names, as written in bags (node in the root namespace).
IMAGE_TOPIC = "/" + IMAGE
CAMERA_INFO_TOPIC = "/" + CAMERA_INFO
DEPTH_TOPIC = "/" + DEPTH
KEYFRAMES_TOPIC = "/" + KEYFRAMES
ODOM_TOPIC = "/" + ODOM
CLOCK_TOPIC = "/clock"  # rosgraph_msgs/Clock, the recording's time (use_sim_time)
GROUND_TRUTH_TOPIC = "/ground_truth/pose"  # geometry_msgs/PoseStamped, T_map_camera of the optical frame

MAP_FRAME = "map"  # frame of keyframe poses and ground truth: the map frame IS the ground-truth frame
ODOM_FRAME = "odom"  # REP-105: continuous, drifting; its origin is the first frame's camera
CAMERA_FRAME = "camera_optical_frame"  # REP-103 optical frame of the camera (x right, y down, z forward)

# The keyframes are a map, not a stream: late joiners must get all of them (as the node's KEYFRAME_QOS).
KEYFRAME_QOS = QoSProfile(
    depth=100,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# Everything else: reliable and volatile, which serves reliable and best-effort (sensor data) subscribers.
STREAM_QOS = QoSProfile(
    depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)  # fmt: skip
LATCHED_TOPICS = (KEYFRAMES_TOPIC,)


def qos_for_topic(topic: str) -> QoSProfile:
    """The QoS a publisher of ``topic`` should offer (latched for the keyframe map, a stream otherwise)."""
    return KEYFRAME_QOS if topic in LATCHED_TOPICS or topic.endswith("/" + KEYFRAMES) else STREAM_QOS
