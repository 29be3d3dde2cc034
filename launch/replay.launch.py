"""Replay a rosbag into the localizer with /clock, as robotics teams test localization.

    ros2 launch loftr_ros replay.launch.py bag:=demo.mcap map_path:=demo_map.db rate:=1.0

`player:=loftr-ros` replays with loftr_ros's own player (`ros2 run loftr_ros loftr_ros_cli replay`, for
machines without rosbag2); the default is `ros2 bag play --clock`. The launch ends `linger` seconds after
the player has played the bag. A missing `bag` or `config_file` fails the launch, naming it.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    ExecuteProcess,
    IncludeLaunchDescription,
    OpaqueFunction,
    RegisterEventHandler,
    TimerAction,
)
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import FindExecutable, LaunchConfiguration
from launch_ros.substitutions import ExecutableInPackage

from launch import Action, LaunchContext, LaunchDescription

ARGUMENTS = {
    "bag": ("", "the bag to replay (a rosbag2 folder or file); required"),
    "rate": ("1.0", "replay rate"),
    "player": ("ros2", "'ros2' (ros2 bag play --clock) or 'loftr-ros' (loftr_ros_cli replay)"),
    "delay": ("0.0", "seconds to wait before playing"),
    "topics": ("", "space-separated topics to play; empty = all"),
    "linger": ("3.0", "seconds the localizer keeps running after the bag ends, to finish its last frames"),
    "wait_for_subscribers": ("30.0", "loftr-ros player: wait up to this long for the localizer to subscribe"),
    "config_file": ("", "localizer parameter file; empty = the package's default"),
    "map_path": ("", "SQLite keyframe map the localizer opens"),
    "namespace": ("", "namespace of the localizer"),
}


def _check_arguments(context: LaunchContext) -> list[Action]:
    """Runs before anything starts: a launch that cannot play leaves no localizer behind."""
    bag, player = LaunchConfiguration("bag").perform(context), LaunchConfiguration("player").perform(context)
    if not bag:
        raise ValueError("replay.launch.py needs bag:=<rosbag2 folder or file>")
    if not Path(bag).exists():
        raise FileNotFoundError(f"replay.launch.py: bag '{bag}' does not exist")
    if player not in ("ros2", "loftr-ros"):
        raise ValueError(f"replay.launch.py: player must be 'ros2' or 'loftr-ros', not '{player}'")
    return []


def _player(context: LaunchContext) -> list[Action]:
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    bag, rate, delay, player = value("bag"), value("rate"), value("delay"), value("player")
    selected = ["--topics", *value("topics").split()] if value("topics").strip() else []
    if player == "loftr-ros":  # the installed executable, as `ros2 run` finds it; no pip console script
        command = [ExecutableInPackage("loftr_ros_cli", "loftr_ros"), "replay", bag, "--rate", rate, "--delay",
                   delay, "--wait-for-subscribers", value("wait_for_subscribers"), *selected]  # fmt: skip
    else:
        command = [FindExecutable(name="ros2"), "bag", "play", bag, "--clock", "--rate", rate, "--delay", delay,
                   *selected]  # fmt: skip
    process = ExecuteProcess(cmd=command, name="player", output="screen")
    shutdown = TimerAction(period=float(value("linger")), actions=[EmitEvent(event=Shutdown(reason="bag played"))])
    finished = OnProcessExit(target_action=process, on_exit=[shutdown])
    return [process, RegisterEventHandler(finished)]


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
        + [OpaqueFunction(function=_check_arguments), localization, OpaqueFunction(function=_player)]
    )
