"""Configuration of the loftr_localizer node: its own options, the matcher's and the core's.

One dataclass per concern, one comment per option (the comment becomes the ROS parameter's
description). The core's options live in :mod:`loftr_ros.localization.config` and the model's in
:mod:`loftr_ros.loftr.config`; this module only composes them. Field metadata gives the parameter
descriptors what the comment cannot: ``range`` (inclusive bounds) and ``read_only`` (unsafe to change
while running). ``config/loftr_localizer.yaml`` holds the same defaults for ``--params-file`` users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from loftr_ros.errors import ConfigError
from loftr_ros.localization.config import LocalizerConfig

IMAGE_TRANSPORTS = ("raw", "compressed")
MATCHERS = ("loftr", "sift", "orb")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "fp16", "bf16")


def option(default: Any, *, range: tuple[float, float] | None = None, read_only: bool = False) -> Any:
    """A dataclass field with the descriptor facts a ROS parameter needs."""
    return field(default=default, metadata={"range": range, "read_only": read_only})


@dataclass(frozen=True)
class NodeConfig:
    """Topics, frames and scheduling of the node."""

    autostart: bool = option(True, read_only=True)  # configure and activate at start (false: a lifecycle manager)
    image_transport: str = option("raw", read_only=True)  # "raw" (sensor_msgs/Image) or "compressed"
    camera_info_tolerance_s: float = option(
        0.02, range=(0.0, 1.0)
    )  # image and camera_info stamps must agree within this
    map_frame: str = option("map", read_only=True)  # frame of the published pose; keyframe poses are in it
    base_frame: str = option("", read_only=True)  # publish this frame's pose instead of the camera's ("" = camera)
    camera_to_base: tuple[float, ...] = option(
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0), read_only=True
    )  # base_frame's pose in the camera optical frame (T_camera_base; tf2_echo <optical> <base>): x y z qx qy qz qw
    map_path: str = option("", read_only=True)  # SQLite keyframe map to open ("" = in memory only)
    create_map: bool = option(False, read_only=True)  # create map_path when it does not exist (else: refused)
    use_depth: bool = option(False, read_only=True)  # subscribe to `depth` so ~/add_keyframe can store the frame
    publish_tf: bool = option(False, read_only=True)  # broadcast map->odom (REP-105) from the pose and odometry
    odom_frame: str = option("odom", read_only=True)  # odometry frame for publish_tf and odometry priors
    prior_timeout_s: float = option(5.0, range=(0.0, 3600.0))  # a prior older than this is ignored (0 = no priors)
    diagnostics_period_s: float = option(1.0, range=(0.1, 60.0))  # how often /diagnostics is published
    pending_image_timeout_s: float = option(0.5, range=(0.0, 10.0))  # an image waits this long for camera_info
    max_image_pixels: int = option(8_000_000, range=(1, 200_000_000))  # larger images are refused undecoded

    def validate(self) -> None:
        if self.image_transport not in IMAGE_TRANSPORTS:
            msg = f"image_transport must be one of {', '.join(IMAGE_TRANSPORTS)}, not {self.image_transport!r}"
            raise ConfigError(msg)
        if len(self.camera_to_base) != 7 or not all(math.isfinite(v) for v in self.camera_to_base):
            raise ConfigError("camera_to_base needs 7 finite numbers: x y z qx qy qz qw")
        for f in fields(self):  # the descriptor ranges hold here too: a NaN fails every comparison
            bounds, value = f.metadata.get("range"), getattr(self, f.name)
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ConfigError(f"{f.name} must be in [{bounds[0]}, {bounds[1]}], not {value}")
        if not self.map_frame:
            raise ConfigError("map_frame must not be empty")


@dataclass(frozen=True)
class MatcherSettings:
    """Which matcher the node runs and where."""

    type: str = option("loftr", read_only=True)  # "loftr", or the OpenCV baselines "sift" / "orb"
    weights: str = option("default", read_only=True)  # LoFTR weights: a file, or a name ("default": the shipped ones)
    device: str = option("auto", read_only=True)  # "auto" (CUDA when there is one), "cpu" or "cuda"
    precision: str = option("fp32", read_only=True)  # "fp32", or "fp16"/"bf16" autocast on CUDA
    max_side: int = option(320, range=(0, 4096), read_only=True)  # longest image side fed to LoFTR (0 = as is)

    def validate(self) -> None:
        for name, valid in (("type", MATCHERS), ("device", DEVICES), ("precision", PRECISIONS)):
            value = getattr(self, name)
            if value not in valid:
                raise ConfigError(f"matcher.{name} must be one of {', '.join(valid)}, not {value!r}")


@dataclass(frozen=True)
class MappingSettings:
    """Live mapping: keyframes added from a trusted pose source (e.g. the robot's SLAM) as the robot moves."""

    enabled: bool = option(False, read_only=True)  # add keyframes posed by the `mapping_pose` topic
    min_distance_m: float = option(0.3, range=(0.0, 100.0))  # metres travelled between keyframes
    min_rotation_deg: float = option(15.0, range=(0.0, 180.0))  # or degrees turned between keyframes
    max_pose_gap_s: float = option(0.05, range=(0.0, 10.0))  # the pose nearest an image must be this close

    def validate(self) -> None:
        for f in fields(self):
            bounds, value = f.metadata.get("range"), getattr(self, f.name)
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ConfigError(f"mapping.{f.name} must be in [{bounds[0]}, {bounds[1]}], not {value}")


@dataclass(frozen=True)
class LocalizerNodeConfig:
    """Everything the node is configured with; ROS parameter names are the dotted field paths."""

    node: NodeConfig = field(default_factory=NodeConfig)  # the node's own options (no prefix)
    matcher: MatcherSettings = field(default_factory=MatcherSettings)  # parameters matcher.*
    localizer: LocalizerConfig = field(default_factory=LocalizerConfig)  # parameters localizer.*
    mapping: MappingSettings = field(default_factory=MappingSettings)  # parameters mapping.*

    def validate(self) -> None:
        for f in fields(self):
            getattr(self, f.name).validate()
