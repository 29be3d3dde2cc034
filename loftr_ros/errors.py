"""Exceptions raised by loftr_ros; every one derives from :class:`LoftrRosError`."""

from __future__ import annotations


class LoftrRosError(Exception):
    """Base of every error loftr_ros raises on purpose."""


class ConversionError(LoftrRosError):
    """A ROS message could not be turned into the core's types (or back)."""


class InputImageError(LoftrRosError):
    """An image handed to the matcher cannot be matched (wrong shape, non-finite pixels)."""


class CheckpointError(LoftrRosError):
    """A weights file is missing, corrupt or does not fit the model; the message names the file."""


class ConfigError(LoftrRosError):
    """A configuration value is invalid; the message says which and what is allowed."""


class MapError(LoftrRosError):
    """A keyframe map cannot be opened, read or written; the message names the file."""


class LocalizationError(LoftrRosError):
    """The localization core was used wrongly (not raised for frames that merely fail to localize)."""


class BagError(LoftrRosError):
    """A rosbag cannot be written, read or replayed; the message names the bag and says what to do."""
