"""loftr_ros: camera relocalization against a keyframe map with LoFTR.

Layout: ``loftr_ros.loftr`` is the matcher (no ROS), ``loftr_ros.localization`` the core
(keyframes, retrieval, pose; no ROS), and the node plus ``loftr_ros.conversions`` adapt ROS
messages to that core.
"""

from pkgutil import extend_path

# The generated interfaces (``loftr_ros.msg``) exist only in the install prefix. When this package
# is imported from a source checkout, let its path reach the installed copy so both are visible.
__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
