"""A deadline for every launch test: a launch that fails before ReadyToTest would otherwise wait forever
(launch_pytest waits for that action with no timeout)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

DEFAULT_DEADLINE_S = 240


@pytest.fixture(autouse=True)
def deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    """SIGALRM in the main thread (which drives launch's event loop) fails the test at its deadline."""
    marker = request.node.get_closest_marker("deadline")
    seconds = int(marker.args[0]) if marker else DEFAULT_DEADLINE_S

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"{request.node.nodeid}: no result within {seconds} s (launch failed or hung)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def own_dds_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The launched nodes and the test's probe on a DDS domain of their own (set before the launch starts)."""
    monkeypatch.setenv("ROS_DOMAIN_ID", str(60 + os.getpid() % 40))
