"""StopRequest: SIGINT/SIGTERM abandon a start that is under way (exit 0), and only ask once the node runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loftr_ros.node.stop import SIGNALS, StopRequest

ROOT = Path(__file__).resolve().parents[2]

# SIGINT arriving while C code runs Python (PyRun_String, as an extension's import does), run with `python -m`
# like `python -m loftr_ros.node`: a plain KeyboardInterrupt there ends the process by SIGINT although caught
PROBE = """
import ctypes, sys
from loftr_ros.node.stop import StopRequest

stop = StopRequest()
run = ctypes.pythonapi.PyRun_String
run.restype = ctypes.py_object
run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.py_object, ctypes.py_object]
try:
    run(b"import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nx = sum(range(10))\\n", 257, {}, {})
except KeyboardInterrupt:
    sys.exit(0 if stop.requested.is_set() else 3)
sys.exit(4)
"""


def test_a_signal_while_starting_ends_the_process_cleanly_under_python_m(tmp_path: Path) -> None:
    (tmp_path / "stop_probe.py").write_text(PROBE)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    done = subprocess.run([sys.executable, "-m", "stop_probe"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr}"


@pytest.fixture
def stop_request():
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    try:
        yield StopRequest()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_for_signals() -> None:
    for _ in range(100):  # Python runs signal handlers between bytecodes
        time.sleep(0.001)


def test_while_starting_a_signal_abandons_the_start(stop_request: StopRequest) -> None:
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for_signals()
    assert stop_request.requested.is_set()


def test_once_running_a_signal_only_asks(stop_request: StopRequest) -> None:
    stop_request.running = True
    os.kill(os.getpid(), signal.SIGINT)
    wait_for_signals()
    assert stop_request.requested.is_set()
