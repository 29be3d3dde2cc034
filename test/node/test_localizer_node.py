"""The loftr_localizer node over real DDS, in its own process started as the launch file starts it.

The node runs with ``--ros-args --params-file config/loftr_localizer.yaml`` plus a small override (the
SIFT matcher: LoFTR-weight-independent and fast on two cores); this test process publishes keyframes,
camera_info and images of a synthetic sequence, and checks poses, matches, status and diagnostics.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rclpy
from loftr_ros.msg import LocalizationStatus
from loftr_ros.srv import SaveMap
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from std_msgs.msg import Header
from std_srvs.srv import Trigger
from support.node_probe import NAMESPACE, Probe, localize, pose_for, publish_map, status_for
from support.node_process import running_node

from loftr_ros import conversions
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic.pairs import PairConfig, make_sequence
from loftr_ros.transforms import invert_transform, rotation_angle_deg

ROOT = Path(__file__).resolve().parents[2]
NODE = f"{NAMESPACE}/loftr_localizer"


@pytest.fixture(scope="module")
def sequence():
    return make_sequence(7, n_frames=36, keyframe_every=2, config=PairConfig(width=320, height=240, nuisances=False))


@pytest.fixture(scope="module")
def node_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    tmp = tmp_path_factory.mktemp("node")
    overrides = (
        "/**:\n  ros__parameters:\n    matcher:\n      type: sift\n    diagnostics_period_s: 0.2\n"
        "    prior_timeout_s: 1.0\n"  # an initial pose stops counting soon, so odometry can take over
        "    localizer:\n      retrieval:\n        top_k: 3\n"
        "    qos_overrides:\n"  # every frame must arrive: the test waits for each one's status
        f"      {NAMESPACE}/image:\n        subscription:\n          reliability: reliable\n"
        f"      {NAMESPACE}/camera_info:\n        subscription:\n          reliability: reliable\n"
    )
    with running_node(tmp, overrides, 120 + os.getpid() % 80, "-r", f"__ns:={NAMESPACE}") as process:
        yield process


@pytest.fixture(scope="module")
def probe(node_process: subprocess.Popen) -> Iterator[Probe]:
    rclpy.init()
    probe = Probe()
    yield probe
    probe.node.destroy_node()
    rclpy.shutdown()


def test_node_localizes_a_synthetic_sequence_and_survives_malformed_input(probe: Probe, sequence) -> None:
    publish_map(probe, sequence)
    base_ns = 1_000_000_000_000
    queries = sequence.queries[::3]

    # Bad input first: each is refused with its reason and counted, and the node keeps going.
    view = queries[0]
    header = Header(stamp=conversions.ns_to_stamp(base_ns - 300_000_000), frame_id="camera_optical")
    wrong_encoding = conversions.rgb_to_image(view.image, header)
    wrong_encoding.encoding = "yuv422"
    status = localize(probe, view, base_ns - 300_000_000, image=wrong_encoding)
    assert status.state == LocalizationStatus.STATE_REJECTED and "yuv422" in status.reason
    truncated = conversions.rgb_to_image(view.image, Header(stamp=conversions.ns_to_stamp(base_ns - 200_000_000)))
    truncated.data = bytes(truncated.data)[:1000]
    status = localize(probe, view, base_ns - 200_000_000, image=truncated)
    assert status.state == LocalizationStatus.STATE_REJECTED and "fewer than height*step" in status.reason
    other_size = view.intrinsics.scaled(0.5, 0.5)
    info = conversions.intrinsics_to_camera_info(
        other_size, Header(stamp=conversions.ns_to_stamp(base_ns - 100_000_000))
    )
    status = localize(probe, view, base_ns - 100_000_000, info=info)
    assert status.state == LocalizationStatus.STATE_REJECTED and "camera_info is 160x120" in status.reason
    no_pose = conversions.keyframe_to_msg(
        Keyframe("bad", 0, "map", view.image, view.intrinsics, view.T_world_camera, view.depth)
    )
    no_pose.header.frame_id = ""
    probe.keyframes.publish(no_pose)
    orphan = Header(stamp=conversions.ns_to_stamp(base_ns - 50_000_000), frame_id="camera_optical")
    probe.images.publish(conversions.rgb_to_image(view.image, orphan))  # no camera_info ever comes
    time.sleep(0.7)  # past pending_image_timeout_s: the next image finds it expired and counts it

    # Then the good frames: poses with the image's stamp, in the map frame, near the ground truth.
    errors = []
    for index, view in enumerate(queries):
        stamp_ns = base_ns + index * 100_000_000
        status = localize(probe, view, stamp_ns)
        assert 1 <= len(status.keyframe_ids) <= 3 and len(status.timings) >= 2  # at most top_k keyframes tried
        if status.state != LocalizationStatus.STATE_LOCALIZED:
            errors.append((np.inf, np.inf))
            continue
        probe.spin_until(lambda s=stamp_ns: pose_for(probe, s) is not None, 10, "the pose")
        pose = pose_for(probe, stamp_ns)
        assert pose.header.frame_id == "map"
        T = conversions.pose_to_matrix(pose.pose.pose)
        delta = invert_transform(view.T_world_camera) @ T
        errors.append((np.linalg.norm(delta[:3, 3]), rotation_angle_deg(delta[:3, :3])))
        covariance = np.asarray(pose.pose.covariance).reshape(6, 6)
        assert np.allclose(covariance, covariance.T) and np.all(np.linalg.eigvalsh(covariance) > 0)
        assert status.num_inliers > 0 and np.isfinite(status.reprojection_rmse_px)
    errors = np.array(errors)
    accurate = (errors[:, 0] < 0.05) & (errors[:, 1] < 2.0)
    assert accurate.sum() >= 4, f"errors (m, deg): {errors.tolist()}"

    matches = [m for m in probe.matches if conversions.stamp_to_ns(m.header.stamp) >= base_ns]
    assert matches and all(len(m.query_points) == 2 * len(m.confidence) == 2 * len(m.inlier) for m in matches)
    assert any(any(m.inlier) for m in matches)

    localized = sum(status_for(probe, base_ns + i * 100_000_000).state == 0 for i in range(len(queries)))
    probe.spin_until(
        lambda: (
            probe.latest_diagnostics().get("localized") == str(localized)
            and "rejected.keyframe" in probe.latest_diagnostics()
        ),
        10,
        f"diagnostics counting {localized} localized frames and the rejected keyframe",
    )
    diagnostics = probe.latest_diagnostics()
    assert int(diagnostics["rejected.image"]) == 2
    assert int(diagnostics["rejected.camera_info_size"]) == 1
    assert int(diagnostics["rejected.keyframe"]) == 1
    assert int(diagnostics["skipped_no_camera_info"]) == 1
    assert diagnostics["keyframes"] == str(len(sequence.keyframes))


def _shifted(T: np.ndarray, metres: float) -> np.ndarray:
    moved = T.copy()
    moved[0, 3] += metres
    return moved


def test_priors_from_initialpose_and_odometry_narrow_the_pose(probe: Probe, sequence) -> None:
    """An initial pose 2 m off makes the true pose a "jump from prior"; an exact one lets it through. Then
    odometry: once a frame is localized, map->odom is known and each odometry pose becomes the prior."""
    base_ns = 2_000_000_000_000
    good = []  # views the node localizes right without a prior (the map is in from the first test)
    for index, view in enumerate(sequence.queries[1::3]):
        stamp_ns = base_ns + index * 1_000_000
        if localize(probe, view, stamp_ns).state == LocalizationStatus.STATE_LOCALIZED:
            probe.spin_until(lambda s=stamp_ns: pose_for(probe, s) is not None, 10, "the pose")
            T = conversions.pose_to_matrix(pose_for(probe, stamp_ns).pose.pose)
            if np.linalg.norm(T[:3, 3] - view.T_world_camera[:3, 3]) < 0.05:
                good.append(view)
    assert len(good) >= 3
    first, second, third = good[:3]

    def with_initial_pose(T: np.ndarray, stamp_ns: int) -> LocalizationStatus:
        header = Header(stamp=conversions.ns_to_stamp(stamp_ns), frame_id="map")
        probe.initial_poses.publish(conversions.pose_with_covariance_msg(T, np.eye(6) * 0.01, header))
        probe.spin_for(0.3)  # delivered before the image that follows
        return localize(probe, first, stamp_ns)

    stamp = base_ns + 100_000_000
    status = with_initial_pose(_shifted(first.T_world_camera, 2.0), stamp)
    assert status.state == LocalizationStatus.STATE_NOT_LOCALIZED and "jump from prior" in status.reason
    assert with_initial_pose(first.T_world_camera, stamp + 100_000_000).state == LocalizationStatus.STATE_LOCALIZED
    time.sleep(1.2)  # past prior_timeout_s: the initial pose no longer counts

    def with_odometry(view, T_odom_camera: np.ndarray, stamp_ns: int) -> LocalizationStatus:
        header = Header(stamp=conversions.ns_to_stamp(stamp_ns), frame_id="odom")
        pose = conversions.pose_with_covariance_msg(T_odom_camera, np.eye(6) * 0.01, header).pose
        probe.odometry.publish(Odometry(header=header, child_frame_id="camera_optical", pose=pose))
        probe.spin_for(0.3)
        return localize(probe, view, stamp_ns)

    stamp += 1_000_000_000
    # odom = map here: the first localized frame fixes map->odom to (nearly) the identity
    assert with_odometry(second, second.T_world_camera, stamp).state == LocalizationStatus.STATE_LOCALIZED
    status = with_odometry(third, _shifted(third.T_world_camera, 2.0), stamp + 100_000_000)
    assert status.state == LocalizationStatus.STATE_NOT_LOCALIZED and "jump from prior" in status.reason
    status = with_odometry(third, third.T_world_camera, stamp + 200_000_000)
    assert status.state == LocalizationStatus.STATE_LOCALIZED, status.reason


def test_invalid_parameters_are_refused_with_the_reason(probe: Probe) -> None:
    def set_parameter(name: str, value: ParameterValue) -> object:
        request = SetParameters.Request(parameters=[Parameter(name=name, value=value)])
        return probe.call(SetParameters, f"{NODE}/set_parameters", request).results[0]

    result = set_parameter(
        "localizer.retrieval.top_k", ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=0)
    )
    assert not result.successful and "top_k must be >= 1" in result.reason
    result = set_parameter("matcher.device", ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="cuda"))
    assert not result.successful and "read-only" in result.reason
    result = set_parameter(
        "camera_info_tolerance_s", ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=5.0)
    )
    assert not result.successful
    result = set_parameter(
        "localizer.gates.min_inliers", ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=25)
    )
    assert result.successful


def test_map_services(probe: Probe, tmp_path: Path) -> None:
    saved = probe.call(SaveMap, f"{NODE}/save_map", SaveMap.Request(path=str(tmp_path / "map.db")))
    assert saved.success, saved.message
    assert saved.num_keyframes > 0 and (tmp_path / "map.db").exists()
    # hostile paths (issue 13): every failure answered with the reason; nothing else overwritten; node stays up
    (tmp_path / "notes.txt").write_text("not a map")
    for bad, reason in [
        (tmp_path / "notes.txt", "not a loftr_ros map"),
        (tmp_path / "notes.txt" / "map.db", "could not save"),
        (tmp_path / ("x" * 300 + ".db"), "could not save"),
    ]:
        answer = probe.call(SaveMap, f"{NODE}/save_map", SaveMap.Request(path=str(bad)))
        assert not answer.success and reason in answer.message, answer.message
    assert (tmp_path / "notes.txt").read_text() == "not a map"
    again = probe.call(SaveMap, f"{NODE}/save_map", SaveMap.Request(path=str(tmp_path / "map.db")))
    assert again.success, again.message  # a loftr_ros map may be replaced
    added = probe.call(Trigger, f"{NODE}/add_keyframe", Trigger.Request())
    assert not added.success and "depth" in added.message  # use_depth is off
    cleared = probe.call(Trigger, f"{NODE}/clear_map", Trigger.Request())
    assert cleared.success
    probe.spin_until(lambda: probe.latest_diagnostics().get("keyframes") == "0", 10, "an empty map")
