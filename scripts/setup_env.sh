#!/usr/bin/env bash
# Set up a fresh machine for loftr_ros without a ROS distribution: a virtual environment with the
# pinned ROS 2 Kilted wheels, PyTorch and the rest (requirements.txt), then msg/ built and the package
# installed through CMakeLists.txt, exactly as colcon would. Every step is skipped when its inputs
# have not changed, so running it again takes seconds.
#
#   scripts/setup_env.sh            # venv in .venv (or $LOFTR_ROS_VENV)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${LOFTR_ROS_VENV:-$repo/.venv}
build=$repo/build/cmake
cd "$repo"

say() { printf '[setup] %s\n' "$*"; }
digest() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# The ros-* wheels are built for CPython 3.11 only.
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate
      break
    fi
  done
fi
[ -n "$python" ] || { echo "[setup] error: Python 3.11 is needed (the ROS 2 Kilted wheels are cp311); set PYTHON=/path/to/python3.11" >&2; exit 1; }

# 1. Virtual environment and pinned packages.
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$python" -m venv "$venv"
fi
stamp_reqs=$venv/.loftr_ros_requirements.sha256
if [ "$(digest requirements.txt)" != "$(cat "$stamp_reqs" 2>/dev/null)" ]; then
  say "installing requirements.txt into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  digest requirements.txt >"$stamp_reqs"
  rm -f "$venv/.loftr_ros_cmake_mended"
else
  say "requirements.txt unchanged; packages already installed"
fi

# 2. The wheels' CMake exports name the wheel builder's include paths; point them at this interpreter.
if [ ! -f "$venv/.loftr_ros_cmake_mended" ]; then
  py_include=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
  mapfile -t exports < <(grep -rlE '/opt/python/cp311-cp311/(include/python3\.11|lib/python3\.11/site-packages/numpy/_core/include)' "$venv/share" --include='*.cmake' || true)
  if [ "${#exports[@]}" -gt 0 ]; then
    say "mending include paths in ${#exports[@]} CMake files of the ROS wheels"
    sed -i -e "s#/opt/python/cp311-cp311/lib/python3\.11/site-packages/numpy/_core/include#${np_include}#g" \
      -e "s#/opt/python/cp311-cp311/include/python3\.11#${py_include}#g" "${exports[@]}"
  fi
  touch "$venv/.loftr_ros_cmake_mended"
fi

# 3. pip install (console scripts `loftr-ros`, `loftr-ros-localizer`), then the CMake build and install
#    of msg/, the Python package, executables, launch/ and config/ into the venv's prefix.
inputs=$(git ls-files -co --exclude-standard -- CMakeLists.txt package.xml setup.py msg loftr_ros scripts launch config resource 2>/dev/null | sort)
stamp_pkg=$venv/.loftr_ros_package.sha256
# shellcheck disable=SC2086
if [ "$(digest $inputs)" != "$(cat "$stamp_pkg" 2>/dev/null)" ]; then
  say "installing the loftr_ros Python package and console scripts (pip)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation "$repo"
  rm -rf "$repo/build/lib" "$repo/build/bdist."* "$repo"/*.egg-info
  say "building msg/ and installing the package with CMake (as colcon does)"
  export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv
  cmake -S "$repo" -B "$build" -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
    -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >"$repo/build/cmake.log" 2>&1 \
    || { cat "$repo/build/cmake.log" >&2; echo "[setup] error: CMake configure failed (log above)" >&2; exit 1; }
  cmake --build "$build" -j "$(nproc)" >>"$repo/build/cmake.log" 2>&1 \
    || { tail -50 "$repo/build/cmake.log" >&2; echo "[setup] error: build failed; full log in build/cmake.log" >&2; exit 1; }
  cmake --install "$build" >>"$repo/build/cmake.log" 2>&1 \
    || { tail -20 "$repo/build/cmake.log" >&2; echo "[setup] error: install failed; full log in build/cmake.log" >&2; exit 1; }
  # shellcheck disable=SC2086
  digest $inputs >"$stamp_pkg"
else
  say "package sources unchanged; msg/ and loftr_ros already installed"
fi

# 4. ROS 2's launch stack and message_filters, which have no PyPI wheels, from ../shared/ros2-python when it
#    is there (CI, this project's machines): the wheels as they are (--no-deps: their ROS dependencies are
#    the ros-* wheels above), composition_interfaces built like msg/, message_filters (a test oracle) on the
#    venv's path. Without it the launch tests skip and say why.
shared=${LOFTR_ROS_SHARED_ROS2:-$repo/../shared/ros2-python}
if [ -d "$shared/wheels" ]; then
  shared=$(cd "$shared" && pwd)
  stamp_launch=$venv/.loftr_ros_ros2_python.sha256
  shared_inputs=$(find "$shared/wheels" "$shared/src" -type f | sort)
  # shellcheck disable=SC2086
  if [ "$(digest $shared_inputs)" != "$(cat "$stamp_launch" 2>/dev/null)" ]; then
    say "installing launch, launch_ros, launch_pytest and composition_interfaces from $shared"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$shared"/wheels/*.whl
    export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv
    iface_build=$repo/build/composition_interfaces
    { cmake -S "$shared/src/composition_interfaces" -B "$iface_build" -DCMAKE_PREFIX_PATH="$venv" \
        -DCMAKE_INSTALL_PREFIX="$venv" -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF \
        -DCMAKE_BUILD_TYPE=Release && cmake --build "$iface_build" -j "$(nproc)" && cmake --install "$iface_build"; } \
      >"$repo/build/composition_interfaces.log" 2>&1 \
      || { tail -30 "$repo/build/composition_interfaces.log" >&2; echo "[setup] error: building composition_interfaces failed; log in build/composition_interfaces.log" >&2; exit 1; }
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$shared/src/message_filters" >"$site/loftr_ros_message_filters.pth"
    # shellcheck disable=SC2086
    digest $shared_inputs >"$stamp_launch"
  else
    say "launch stack from $shared already installed"
  fi
  "$venv/bin/python" -c 'import launch, launch_ros, launch_pytest, message_filters, composition_interfaces.srv' \
    || { echo "[setup] error: the launch stack from $shared does not import" >&2; exit 1; }
else
  say "no ../shared/ros2-python: launch, launch_ros, launch_pytest not installed (their tests will skip)"
fi

"$venv/bin/python" -c 'from loftr_ros.msg import Keyframe, Matches, LocalizationStatus; import rclpy' \
  || { echo "[setup] error: the installed interfaces do not import" >&2; exit 1; }
say "ready: $venv (activate with: source $venv/bin/activate)"
