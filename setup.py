"""pip install path for loftr_ros (a ROS 2 workspace builds it with CMakeLists.txt instead).

pip cannot run rosidl, so a pip install carries the Python package, its console scripts, launch/ and
config/, but not the generated ``loftr_ros.msg`` interfaces: those come from `scripts/setup_env.sh`
(or colcon), which builds msg/ with the same CMakeLists.txt.
"""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "loftr_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Camera relocalization against a keyframe map with LoFTR, as a ROS 2 node",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    package_data={PACKAGE: ["py.typed", "weights/*.safetensors", "weights/*.json", "weights/*.md"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ],
    install_requires=[
        "numpy",
        "torch",
        "opencv-python-headless",
        "safetensors",
        "poselib",
        "rosbags",
        "rosbags-image",
        "pyyaml",
        "matplotlib",
        "tqdm",
    ],
    extras_require={"test": ["pytest", "hypothesis", "kornia", "catkin-pkg", "ruff"]},
    entry_points={
        "console_scripts": [
            "loftr-ros = loftr_ros.cli:main",
            "loftr-ros-localizer = loftr_ros.node:main",
        ]
    },
)
