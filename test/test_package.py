"""The package manifest and build files agree with each other and with what colcon expects."""

from __future__ import annotations

import re
from pathlib import Path

from catkin_pkg.package import parse_package

import loftr_ros

ROOT = Path(__file__).resolve().parents[1]


def test_package_xml_is_valid_format_3() -> None:
    package = parse_package(str(ROOT / "package.xml"))
    package.validate()  # raises InvalidPackage on any violation
    assert package.package_format == 3
    assert package.name == "loftr_ros"
    assert package.get_build_type() == "ament_cmake"
    assert package.version == loftr_ros.__version__


def test_dependencies_use_rosdep_keys() -> None:
    package = parse_package(str(ROOT / "package.xml"))
    runtime = {d.name for d in package.exec_depends + package.build_export_depends + package.build_depends}
    for key in (
        "rclpy",
        "sensor_msgs",
        "geometry_msgs",
        "std_msgs",
        "nav_msgs",
        "diagnostic_msgs",
        "std_srvs",
        "python3-numpy",
        "python3-opencv",
        "python3-torch",
        "launch_ros",
        "rosidl_default_runtime",
    ):
        assert key in runtime, f"package.xml does not declare {key}"
    tests = {d.name for d in package.test_depends}
    assert {"launch_pytest", "python3-pytest"} <= tests
    assert "rosidl_interface_packages" in {g.name for g in package.member_of_groups}


def test_cmake_generates_every_interface_and_installs_the_package() -> None:
    cmake = (ROOT / "CMakeLists.txt").read_text()
    interfaces = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "msg").glob("*.msg"))
    listed = sorted(re.findall(r'"(msg/[A-Za-z]+\.msg)"', cmake))
    assert listed == interfaces
    for needed in (
        "rosidl_generate_interfaces",
        "DESTINATION share/${PROJECT_NAME}",
        "DESTINATION lib/${PROJECT_NAME}",
        "${PYTHON_INSTALL_DIR}/${PROJECT_NAME}",
    ):
        assert needed in cmake


def test_every_message_field_is_documented() -> None:
    for path in (ROOT / "msg").glob("*.msg"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            field = line.split("#")[0].strip()
            if not field or "=" in field:
                continue
            documented = "#" in line or (number > 0 and lines[number - 1].lstrip().startswith("#"))
            assert documented, f"{path.name}:{number + 1} '{field}' has no comment"


def test_setup_py_matches_the_manifest() -> None:
    setup = (ROOT / "setup.py").read_text()
    assert f'version="{loftr_ros.__version__}"' in setup
    assert "loftr-ros = loftr_ros.cli:main" in setup
