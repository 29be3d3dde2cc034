"""The node as a lifecycle (managed) node, driven over DDS with the lifecycle_msgs services as nav2's
lifecycle manager drives it: configure opens the map, activate starts input and output, deactivate stops
them, cleanup closes the map, and configure again reopens it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import rclpy
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from support.node_probe import Probe, publish_map, send_frame, status_for
from support.node_process import running_node

from loftr_ros.bags import topics
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.synthetic.pairs import PairConfig, make_sequence

NAMESPACE = "/managed"
NODE = f"{NAMESPACE}/loftr_localizer"
OVERRIDES = (
    "/**:\n  ros__parameters:\n    autostart: false\n    matcher:\n      type: sift\n    diagnostics_period_s: 0.2\n"
    "    qos_overrides:\n"
    f"      {NAMESPACE}/image:\n        subscription:\n          reliability: reliable\n"
    f"      {NAMESPACE}/camera_info:\n        subscription:\n          reliability: reliable\n"
)


def transition(probe: Probe, transition_id: int) -> None:
    answer = probe.call(ChangeState, f"{NODE}/change_state",
                        ChangeState.Request(transition=Transition(id=transition_id)))  # fmt: skip
    assert answer.success, f"transition {transition_id} refused"


def state(probe: Probe) -> int:
    return probe.call(GetState, f"{NODE}/get_state", GetState.Request()).current_state.id


def publishers(probe: Probe, topic: str) -> int:
    return probe.node.count_publishers(topic)


def subscribers(probe: Probe, topic: str) -> int:
    return probe.node.count_subscribers(topic)


@pytest.fixture(scope="module")
def sequence():
    return make_sequence(7, n_frames=12, keyframe_every=2, config=PairConfig(width=320, height=240, nuisances=False))


def test_transitions_over_dds(tmp_path: Path, sequence) -> None:
    map_path = tmp_path / "map.db"
    overrides = OVERRIDES + f"    map_path: {map_path}\n    create_map: true\n"
    with running_node(tmp_path, overrides, 40 + os.getpid() % 60, "-r", f"__ns:={NAMESPACE}") as process:
        rclpy.init()
        probe = Probe(NAMESPACE)
        try:
            probe.spin_until(lambda: probe.latest_diagnostics().get("lifecycle_state") == "unconfigured", 60,
                             "diagnostics of the unconfigured node")  # fmt: skip
            assert state(probe) == State.PRIMARY_STATE_UNCONFIGURED
            assert not map_path.exists()  # autostart false: nothing loaded yet
            assert publishers(probe, f"{NODE}/pose") == 0

            transition(probe, Transition.TRANSITION_CONFIGURE)
            assert state(probe) == State.PRIMARY_STATE_INACTIVE
            assert map_path.exists()
            probe.spin_until(lambda: publishers(probe, f"{NODE}/pose") == 1, 10, "the pose publisher")
            assert subscribers(probe, f"{NAMESPACE}/{topics.IMAGE}") == 0  # no input while inactive

            transition(probe, Transition.TRANSITION_ACTIVATE)
            assert state(probe) == State.PRIMARY_STATE_ACTIVE
            probe.spin_until(lambda: subscribers(probe, f"{NAMESPACE}/{topics.IMAGE}") == 1, 10, "the image input")
            publish_map(probe, sequence)
            stamp = 5_000_000_000
            send_frame(probe, sequence.queries[0], stamp)
            probe.spin_until(lambda: status_for(probe, stamp) is not None, 60, "a status while active")

            transition(probe, Transition.TRANSITION_DEACTIVATE)
            assert state(probe) == State.PRIMARY_STATE_INACTIVE
            probe.spin_until(lambda: subscribers(probe, f"{NAMESPACE}/{topics.IMAGE}") == 0, 10, "input stopped")
            send_frame(probe, sequence.queries[1], stamp + 1)
            probe.spin_for(1.5)
            assert status_for(probe, stamp + 1) is None  # deactivated: frames are not processed

            transition(probe, Transition.TRANSITION_CLEANUP)
            assert state(probe) == State.PRIMARY_STATE_UNCONFIGURED
            probe.spin_until(lambda: publishers(probe, f"{NODE}/pose") == 0, 10, "the pose publisher released")
            with KeyframeStore(map_path, readonly=True) as store:  # closed by cleanup, every keyframe in it
                assert len(store.ids()) == len(sequence.keyframes)

            transition(probe, Transition.TRANSITION_CONFIGURE)  # reopens the map it wrote
            transition(probe, Transition.TRANSITION_ACTIVATE)
            probe.spin_until(lambda: probe.latest_diagnostics().get("keyframes") == str(len(sequence.keyframes)),
                             20, "the reopened map's keyframes")  # fmt: skip
            send_frame(probe, sequence.queries[2], stamp + 2)
            probe.spin_until(lambda: status_for(probe, stamp + 2) is not None, 60, "a status after reactivation")

            transition(probe, Transition.TRANSITION_ACTIVE_SHUTDOWN)
            assert process.wait(30) == 0 or state(probe) == State.PRIMARY_STATE_FINALIZED
        finally:
            probe.node.destroy_node()
            rclpy.shutdown()

