"""Start the loftr_localizer node with a parameter file, a namespace, topic remappings and sim time.

    ros2 launch loftr_ros localization.launch.py namespace:=front image:=/camera/color/image_raw \
        camera_info:=/camera/color/camera_info map_path:=/maps/office.db
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchContext, LaunchDescription

ARGUMENTS = {
    # name: (default, description)
    "config_file": ("", "parameter file; empty = share/loftr_ros/config/loftr_localizer.yaml"),
    "namespace": ("", "namespace of the node and its topics"),
    "use_sim_time": ("false", "use /clock (true when replaying a bag)"),
    "image": ("image", "camera image topic (sensor_msgs/Image, or the CompressedImage base topic)"),
    "camera_info": ("camera_info", "camera_info topic paired with the image by stamp"),
    "depth": ("depth", "registered depth topic (used when use_depth is set)"),
    "keyframes": ("keyframes", "loftr_ros/Keyframe topic feeding the map"),
    "odom": ("odom", "nav_msgs/Odometry prior"),
    "initialpose": ("initialpose", "geometry_msgs/PoseWithCovarianceStamped prior (RViz's 2D Pose Estimate)"),
    "mapping_pose": ("mapping_pose", "geometry_msgs/PoseStamped trusted poses for live mapping (mapping.enabled)"),
    "map_path": ("", "SQLite keyframe map to open; overrides the parameter file when set"),
    "log_level": ("info", "node log level"),
}


REMAPPED = ("camera_info", "depth", "keyframes", "odom", "initialpose", "mapping_pose")  # besides the image


def _node(context: LaunchContext) -> list[Node]:
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    config_file = value("config_file") or str(
        Path(get_package_share_directory("loftr_ros")) / "config" / "loftr_localizer.yaml"
    )
    if not Path(config_file).is_file():  # fail here, naming it, not later inside the node's rcl arguments
        raise FileNotFoundError(f"localization.launch.py: config_file '{config_file}' does not exist")
    parameters: list = [config_file]
    if value("map_path"):
        parameters.append({"map_path": value("map_path")})
    parameters.append({"use_sim_time": value("use_sim_time").lower() in ("true", "1")})
    image = value("image")
    return [
        Node(
            package="loftr_ros",
            executable="loftr_localizer",
            name="loftr_localizer",
            namespace=value("namespace"),
            parameters=parameters,
            remappings=[
                ("image", image),
                ("image/compressed", f"{image}/compressed"),
                *((topic, value(topic)) for topic in REMAPPED),
            ],
            arguments=["--ros-args", "--log-level", value("log_level")],
            output="screen",
        )
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=text)
            for name, (default, text) in ARGUMENTS.items()
        ]
        + [OpaqueFunction(function=_node)]
    )
