"""SIGINT and SIGTERM as a request to stop, taken at a moment that loses nothing.

rclpy's own handlers shut the ROS context down from inside the signal: callbacks still running (a keyframe
being written, a lifecycle transition publishing its event) then fail on a dead context, log errors, and
can crash in C. Instead the node takes the signal as a request: before it runs, the start is abandoned at
once (nothing has been acknowledged yet); once it runs, the executor finishes what it is doing, the map is
closed, and only then is the context shut down.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal(KeyboardInterrupt):
    """Raised while starting. Not KeyboardInterrupt itself: CPython remembers an exact KeyboardInterrupt that
    passed through C-run code (an extension's import) and, under ``python -m``, ends the process by SIGINT
    at exit even after the exception was caught."""


class StopRequest:
    """Installs itself for SIGINT and SIGTERM; ``requested`` is set by either."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.running = False  # set once the node has started: from then on a signal only asks
        for signum in SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.requested.set()  # kept even where the exception below is swallowed (a weakref callback)
        if not self.running:
            raise StopSignal  # abandon the start where it is

    @staticmethod
    def ignore_further() -> None:
        """While the map is being closed, another Ctrl-C must not cut that short."""
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
