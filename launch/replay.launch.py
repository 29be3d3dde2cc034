"""Replay a rosbag into the localizer with /clock, as robotics teams test localization.

    ros2 launch loftr_ros replay.launch.py bag:=demo.mcap map_path:=demo_map.db rate:=1.0

`player:=loftr-ros` replays with loftr_ros's own player (`loftr-ros replay`, for machines without
rosbag2); the default is `ros2 bag play --clock`.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

from launch import LaunchContext, LaunchDescription

ARGUMENTS = {
    "bag": ("", "the bag to replay (a rosbag2 folder or file)"),
    "rate": ("1.0", "replay rate"),
    "player": ("ros2", "'ros2' (ros2 bag play --clock) or 'loftr-ros' (loftr-ros replay)"),
    "config_file": ("", "localizer parameter file; empty = the package's default"),
    "map_path": ("", "SQLite keyframe map the localizer opens"),
    "namespace": ("", "namespace of the localizer"),
}


def _player(context: LaunchContext) -> list[ExecuteProcess]:
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    bag, rate = value("bag"), value("rate")
    if value("player") == "loftr-ros":
        command = ["loftr-ros", "replay", bag, "--rate", rate]
    else:
        command = ["ros2", "bag", "play", bag, "--clock", "--rate", rate]
    return [ExecuteProcess(cmd=command, output="screen")]


def generate_launch_description() -> LaunchDescription:
    localization = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            str(Path(get_package_share_directory("loftr_ros")) / "launch" / "localization.launch.py")
        ),
        launch_arguments={
            "use_sim_time": "true",
            "config_file": LaunchConfiguration("config_file"),
            "map_path": LaunchConfiguration("map_path"),
            "namespace": LaunchConfiguration("namespace"),
        }.items(),
    )
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=text)
            for name, (default, text) in ARGUMENTS.items()
        ]
        + [localization, OpaqueFunction(function=_player)]
    )
