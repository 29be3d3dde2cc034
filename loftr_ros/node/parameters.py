"""ROS parameters declared once, from the config dataclasses.

Every leaf field of :class:`~loftr_ros.config.LocalizerNodeConfig` becomes a parameter named by its dotted
path (the ``node`` section without prefix: ``image_transport``, ``matcher.device``,
``localizer.retrieval.top_k``). Its description is the field's comment in the source, its range and
read-only flag come from the field's metadata; nothing is listed twice.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter

from loftr_ros.config import LocalizerNodeConfig
from loftr_ros.errors import ConfigError

UNPREFIXED_SECTION = "node"
_FIELD_LINE = re.compile(r"^    (\w+):")


@dataclass(frozen=True)
class ParameterSpec:
    name: str  # ROS parameter name
    path: tuple[str, ...]  # attribute path in LocalizerNodeConfig
    default: Any
    description: str
    range: tuple[float, float] | None
    read_only: bool


@cache
def field_comments(cls: type) -> dict[str, str]:
    """Each field's trailing comment in the class source: the one comment per option our configs carry."""
    comments: dict[str, str] = {}
    current = None
    for line in inspect.getsource(cls).splitlines():
        match = _FIELD_LINE.match(line)
        if match:
            current = match.group(1)
        elif line.startswith("    def ") or line.startswith("    @"):
            current = None
        if current and current not in comments and "#" in line:
            comments[current] = line.split("#", 1)[1].strip()
    return comments


def parameter_specs(config: LocalizerNodeConfig | None = None) -> list[ParameterSpec]:
    config = config or LocalizerNodeConfig()
    specs: list[ParameterSpec] = []

    def walk(obj: Any, path: tuple[str, ...]) -> None:
        comments = field_comments(type(obj))
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, (*path, f.name))
                continue
            full = (*path, f.name)
            name = ".".join(full[1:] if full[0] == UNPREFIXED_SECTION else full)
            read_only = bool(f.metadata.get("read_only")) or full[:2] in (("localizer", "store"),)
            specs.append(ParameterSpec(name, full, value, comments.get(f.name, ""), f.metadata.get("range"), read_only))

    walk(config, ())
    return specs


def _ros_default(value: Any) -> Any:
    return [float(v) for v in value] if isinstance(value, tuple) else value


def _descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    if spec.range is not None:
        low, high = spec.range
        if isinstance(spec.default, bool):
            pass
        elif isinstance(spec.default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=0)]
        elif isinstance(spec.default, float):
            descriptor.floating_point_range = [FloatingPointRange(from_value=low, to_value=high, step=0.0)]
    return descriptor


def config_with(config: LocalizerNodeConfig, values: dict[tuple[str, ...], Any]) -> LocalizerNodeConfig:
    """A copy of ``config`` with the given leaves replaced, validated (ConfigError says what is wrong)."""

    def rebuild(obj: Any, path: tuple[str, ...]) -> Any:
        changes = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            full = (*path, f.name)
            if dataclasses.is_dataclass(value):
                changes[f.name] = rebuild(value, full)
            elif full in values:
                new = values[full]
                changes[f.name] = tuple(new) if isinstance(value, tuple) else new
        return dataclasses.replace(obj, **changes)

    updated = rebuild(config, ())
    updated.validate()
    return updated


class NodeParameters:
    """Declares the parameters on a node, holds the validated config, and vets changes at run time."""

    def __init__(self, node: Node, on_change: Callable[[LocalizerNodeConfig], None] | None = None) -> None:
        self._node = node
        self._on_change = on_change
        self.specs = {spec.name: spec for spec in parameter_specs()}
        for spec in self.specs.values():
            node.declare_parameter(spec.name, _ros_default(spec.default), _descriptor(spec))
        values = {spec.path: node.get_parameter(spec.name).value for spec in self.specs.values()}
        self.config = config_with(LocalizerNodeConfig(), values)  # ConfigError stops the node at start
        node.add_on_set_parameters_callback(self._on_set)

    def _on_set(self, parameters: list[Parameter]) -> SetParametersResult:
        values = {}
        for parameter in parameters:
            spec = self.specs.get(parameter.name)
            if spec is None:
                continue  # e.g. use_sim_time: rclpy's own
            values[spec.path] = parameter.value
        try:
            candidate = config_with(self.config, values)
        except (ConfigError, TypeError) as error:
            return SetParametersResult(successful=False, reason=str(error))
        self.config = candidate
        if self._on_change is not None:
            self._on_change(candidate)
        return SetParametersResult(successful=True)


def render_parameters_yaml(specs: list[ParameterSpec] | None = None) -> str:
    """``config/loftr_localizer.yaml``: every parameter with its default and description."""
    import yaml

    lines = [
        "# Defaults of every loftr_localizer parameter, generated from the config dataclasses",
        "# (loftr_ros/config.py and the core's) by `loftr-ros params-yaml`; a test keeps them equal.",
        "#   ros2 run loftr_ros loftr_localizer --ros-args --params-file config/loftr_localizer.yaml",
        "# (read-only) parameters cannot change while the node runs.",
        "/**:",
        "  ros__parameters:",
    ]
    previous: list[str] = []
    for spec in specs or parameter_specs():
        *section, leaf = spec.name.split(".")
        common = 0
        while common < min(len(section), len(previous)) and section[common] == previous[common]:
            common += 1
        lines.extend("    " + "  " * depth + section[depth] + ":" for depth in range(common, len(section)))
        previous = section
        default = _ros_default(spec.default)
        value = yaml.safe_dump(default, default_flow_style=True).replace("\n...", "").strip()
        if isinstance(default, str):
            value = f'"{default}"'
        comment = spec.description + (" (read-only)" if spec.read_only else "")
        lines.append(f"    {'  ' * len(section)}{leaf}: {value}  # {comment}")
    return "\n".join(lines) + "\n"
