"""`python -m loftr_ros.node --ros-args ...`: the loftr_localizer node."""

import sys

from loftr_ros.node import main

sys.exit(main(sys.argv))
