"""The node guides its user: a mistyped map path is refused, and it says what it waits on until images come."""

from __future__ import annotations

import os
import time
from pathlib import Path

from support.node_process import running_node

SIFT = "/**:\n  ros__parameters:\n    matcher:\n      type: sift\n"


def wait_for_log(log: Path, text: str, timeout_s: float, process) -> str:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"{text!r} not logged within {timeout_s} s:\n{log.read_text()[-3000:]}"
        assert process.poll() is None or text in log.read_text(), log.read_text()[-3000:]
        time.sleep(0.2)
    return log.read_text()


def test_a_map_path_that_does_not_exist_is_refused_unless_create_map(tmp_path: Path) -> None:
    missing = tmp_path / "offce.db"  # a typo of office.db
    with running_node(tmp_path, SIFT + f"    map_path: {missing}\n", 30 + os.getpid() % 10) as process:
        assert process.wait(60) == 1
    log = (tmp_path / "node.log").read_text()
    assert str(missing) in log and "create_map" in log
    assert not missing.exists()


def test_the_node_says_what_it_waits_on_until_an_image_comes(tmp_path: Path) -> None:
    with running_node(tmp_path, SIFT, 20 + os.getpid() % 10, "-r", "__ns:=/guide") as process:
        log = tmp_path / "node.log"
        text = wait_for_log(log, "no image received yet", 60, process)
        assert "waiting for images on /guide/image and /guide/camera_info" in text
        assert "matcher sift on auto; map in memory" in text  # the one-line summary at start
        assert "LocalizerNodeConfig(" not in text  # the whole configuration only at debug level
