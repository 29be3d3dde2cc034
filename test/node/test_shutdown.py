"""Shutdown without loss: the node is stopped at random moments while keyframes stream in and frames are
being localized, 21 times (SIGINT, SIGTERM, SIGKILL in turn; every 4th run while the node is still starting),
always on the same map file.

After SIGINT/SIGTERM the node must exit 0 with nothing logged as an error; after any signal the map must
open and hold every keyframe the node reported as added (for SIGKILL: every one committed before it).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from loftr_ros.msg import Keyframe as KeyframeMsg
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from loftr_ros import conversions
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic.pairs import PairConfig, make_sequence

ROOT = Path(__file__).resolve().parents[2]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL] * 7
ADDED = re.compile(r"keyframe '([^']+)' added")


@pytest.fixture(scope="module")
def sequence():
    return make_sequence(11, n_frames=8, keyframe_every=2, config=PairConfig(width=160, height=120, nuisances=False))


def start_node(folder: Path, map_path: Path, domain_id: int) -> tuple[subprocess.Popen, Path]:
    overrides = folder / "overrides.yaml"
    overrides.write_text(f"/**:\n  ros__parameters:\n    matcher:\n      type: sift\n    map_path: {map_path}\n"
                         "    create_map: true\n")
    log = folder / "node.log"
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain_id), PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    command = [sys.executable, "-m", "loftr_ros.node", "--ros-args", "--params-file",
               str(ROOT / "config" / "loftr_localizer.yaml"), "--params-file", str(overrides)]  # fmt: skip
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT), log


def process_state(pid: int) -> str:
    """What the node was doing when the signal went out, for a failure's message: its signal masks and how
    far its start had come."""
    try:
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError as error:
        return f"no /proc state: {error}"
    masks = " ".join(f"{key}={status.get(key, '?').strip()}" for key in ("SigBlk", "SigIgn", "SigCgt", "Threads"))
    loaded = [lib for lib in ("librcl.so", "cv2", "torch", "sqlite") if lib in maps]
    return f"{masks}; loaded: {loaded}"


def test_stopped_at_random_moments_the_node_loses_no_reported_keyframe(tmp_path: Path, sequence) -> None:
    domain_id = 200 + os.getpid() % 30
    os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    rng = np.random.default_rng(0)
    map_path = tmp_path / "map.db"
    reported: set[str] = set()
    rclpy.init()
    probe: Node = rclpy.create_node("shutdown_probe")
    try:
        latched = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)  # fmt: skip
        keyframes = probe.create_publisher(KeyframeMsg, "keyframes", latched)
        images = probe.create_publisher(Image, "image", 10)
        infos = probe.create_publisher(CameraInfo, "camera_info", 10)
        for run, sig in enumerate(SIGNALS):
            folder = tmp_path / f"run{run:02d}"
            folder.mkdir()
            process, log = start_node(folder, map_path, domain_id)
            state = ""
            try:
                deadline = time.monotonic() + 60
                while run % 4 != 3 and "map: " not in log.read_text():  # configured (every 4th: while starting)
                    assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
                    rclpy.spin_once(probe, timeout_sec=0.05)
                stop_at = time.monotonic() + rng.uniform(0.2, 2.5)
                sent = 0
                while time.monotonic() < stop_at:  # keyframes and frames streaming while the signal comes
                    view = sequence.keyframes[sent % len(sequence.keyframes)]
                    keyframe = Keyframe(f"run{run}-kf{sent}", sent, "map", view.image, view.intrinsics,
                                        view.T_world_camera, view.depth)  # fmt: skip
                    keyframes.publish(conversions.keyframe_to_msg(keyframe))
                    header = Header(stamp=conversions.ns_to_stamp(10**9 * (run + 1) + sent), frame_id="camera")
                    query = sequence.queries[sent % len(sequence.queries)]
                    infos.publish(conversions.intrinsics_to_camera_info(query.intrinsics, header))
                    images.publish(conversions.rgb_to_image(query.image, header))
                    sent += 1
                    rclpy.spin_once(probe, timeout_sec=0.03)
                state = process_state(process.pid)
                process.send_signal(sig)
                code = process.wait(30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            text = log.read_text()
            reported |= set(ADDED.findall(text))
            if sig != signal.SIGKILL:
                assert code == 0, f"run {run} ({sig.name}): exit {code} (at the signal: {state})\n{text[-3000:]}"
                assert "[ERROR]" not in text and "Traceback" not in text, f"run {run} ({sig.name}):\n{text[-3000:]}"
            with KeyframeStore(map_path, readonly=True) as store:
                missing = reported - set(store.ids())
            assert not missing, f"run {run} ({sig.name}): reported added but not in the map: {sorted(missing)}"
    finally:
        probe.destroy_node()
        rclpy.shutdown()
    assert len(reported) >= 40  # keyframes really were streaming when the signals came


STOP_WHILE_STARTING = """
import os, signal, sys
from loftr_ros.node import main

moment, signum = sys.argv[1], signal.Signals[sys.argv[2]]

class SignalOnImport:  # while the node's module (torch, rclpy) is being imported
    def find_spec(self, name, path, target=None):
        if name == "loftr_ros.node.localizer_node":
            os.kill(os.getpid(), signum)
        return None

if moment == "importing":
    sys.meta_path.insert(0, SignalOnImport())
else:  # while the configure transition opens the map
    import loftr_ros.node.localizer_node as node_module

    class SignalWhileOpening(node_module.KeyframeStore):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            os.kill(os.getpid(), signum)

    node_module.KeyframeStore = SignalWhileOpening
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("moment", ["importing", "configuring"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_stopped_while_starting_the_node_exits_cleanly(tmp_path: Path, sig: str, moment: str) -> None:
    map_path = tmp_path / "map.db"
    command = [sys.executable, "-c", STOP_WHILE_STARTING, moment, sig, "--ros-args", "-p", f"map_path:={map_path}",
               "-p", "create_map:=true", "-p", "matcher.type:=sift"]  # fmt: skip
    done = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}\n{output}"
    assert "Traceback" not in output and "[ERROR]" not in output, output
    assert map_path.exists() == (moment == "configuring")
    if moment == "configuring":
        with KeyframeStore(map_path, readonly=True) as store:
            assert store.ids() == []  # a map that opens: the node closed it on its way out
