"""On PYTHONPATH, makes this interpreter look like the GPU machine: no ROS, PoseLib, tqdm, kornia or rosbags."""

import sys

for _name in ("rclpy", "poselib", "tqdm", "kornia", "rosbags"):
    sys.modules[_name] = None  # `import` fails and `find_spec` reports it absent, as where it is not installed
