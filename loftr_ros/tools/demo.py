"""`loftr-ros demo`: the whole product on a synthetic scene, over real DDS.

1. Writes a synthetic sequence as a rosbag (images, camera_info, keyframes, ground truth, drifting
   odometry, /clock) and its keyframe map.
2. Starts the loftr_localizer node as its own process (``--params-file config/loftr_localizer.yaml``,
   the map, sim time, the shipped weights), as the launch file does.
3. Replays the bag's camera stream over DDS with /clock at its recorded timing (``loftr-ros replay``).
4. Records the node's ``~/pose`` and ``~/status`` into a second bag.
5. Scores the recorded poses against the ground truth: prints the table, writes CSV, JSON and plots.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from loftr_ros import conversions
from loftr_ros.bags import topics
from loftr_ros.errors import LoftrRosError
from loftr_ros.evaluation.report import FrameRecord
from loftr_ros.tools import WEIGHTS_HELP, output_folder, parse_size

logger = logging.getLogger(__name__)

NODE_NAME = "loftr_localizer"


def default_params_file(folder: Path) -> Path:
    """The node's parameter file with every default, written from the config dataclasses (the same text as the
    installed share/loftr_ros/config/loftr_localizer.yaml): no path into the installation needed."""
    from loftr_ros.node.parameters import render_parameters_yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(render_parameters_yaml())
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=Path("out/demo"), help="folder for bags, map, results")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--seed", type=int, default=3, help="synthetic scene")
    parser.add_argument("--frames", type=int, default=40, help="frames along the trajectory")
    parser.add_argument("--keyframe-every", type=int, default=2, help="every n-th frame is a keyframe")
    parser.add_argument("--size", type=parse_size, default="320x240", metavar="WxH", help="image size")
    parser.add_argument(
        "--fps", type=float, default=0.5, help="camera rate of the bag (the node drops what it cannot keep up with)"
    )
    parser.add_argument(
        "--odometry-drift", type=float, default=0.02, metavar="M_PER_M",
        help="the bag's /odom drifts this many metres per metre travelled; the node uses it as its prior"
        " once a frame is localized (negative: no /odom, every frame relocalizes from scratch)",
    )  # fmt: skip
    parser.add_argument("--matcher", default="loftr", choices=("loftr", "sift", "orb"), help="matcher of the node")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument(
        "--max-side", type=int, default=None,
        help="LoFTR input's longest side (0 = as recorded; default: the params file's, 320)",
    )  # fmt: skip
    parser.add_argument("--params-file", type=Path, default=None,
                        help="the node's parameter file (default: every default, written to OUTPUT/params.yaml)")
    parser.add_argument("--timeout", type=float, default=240.0, help="give up on the node after this many seconds")


def _node_command(args: argparse.Namespace, map_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "loftr_ros.node", "--ros-args",
        "--params-file", str(args.params_file or default_params_file(map_path.parent)),
        "-p", f"map_path:={map_path}",
        "-p", "use_sim_time:=true",
        "-p", f"matcher.type:={args.matcher}",
        *(["-p", f"matcher.max_side:={args.max_side}"] if args.max_side is not None else []),
        "-p", "diagnostics_period_s:=0.5",
        *(["-p", f"matcher.weights:={args.weights}"] if args.weights else []),
    ]  # fmt: skip


class Recorder:
    """Subscribes to the node's outputs and writes them, as received, into a bag."""

    def __init__(self, node, bag_path: Path) -> None:
        from geometry_msgs.msg import PoseWithCovarianceStamped

        from loftr_ros.bags.writer import BagWriter
        from loftr_ros.msg import LocalizationStatus

        self.writer = BagWriter(bag_path, storage="mcap").open()
        self.poses: dict[int, np.ndarray] = {}
        self.statuses: dict[int, LocalizationStatus] = {}
        self.keyframes_in_node = -1
        self._lock = threading.Lock()
        self.pose_topic, self.status_topic = f"/{NODE_NAME}/pose", f"/{NODE_NAME}/status"
        node.create_subscription(PoseWithCovarianceStamped, self.pose_topic, self._on_pose, 50)
        node.create_subscription(LocalizationStatus, self.status_topic, self._on_status, 50)
        from diagnostic_msgs.msg import DiagnosticArray

        node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self._clock = node.get_clock()

    def _record(self, topic: str, msg: object, stamp_ns: int) -> None:
        with self._lock:
            self.writer.write(topic, msg, stamp_ns)

    def _on_pose(self, msg) -> None:
        stamp = conversions.stamp_to_ns(msg.header.stamp)
        self.poses[stamp] = conversions.pose_to_matrix(msg.pose.pose)
        self._record(self.pose_topic, msg, stamp)

    def _on_status(self, msg) -> None:
        stamp = conversions.stamp_to_ns(msg.header.stamp)
        self.statuses[stamp] = msg
        self._record(self.status_topic, msg, stamp)

    def _on_diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.hardware_id == f"/{NODE_NAME}":
                values = {kv.key: kv.value for kv in status.values}
                self.keyframes_in_node = int(values.get("keyframes", -1))

    def close(self) -> None:
        with self._lock:
            self.writer.close()


def _records(bag: Path, recorder: Recorder) -> list[FrameRecord]:
    """One record per image of the bag: the node's status and pose for it, or DROPPED."""
    from loftr_ros.bags.reader import BagReader
    from loftr_ros.bags.sequence import query_frames
    from loftr_ros.localization.types import LocalizationState

    records = []
    with BagReader(bag) as reader:
        for frame in query_frames(reader):
            status = recorder.statuses.get(frame.stamp_ns)
            if status is None:
                reason = "dropped: the node was busy with a newer frame"
                records.append(FrameRecord(frame.index, frame.stamp_ns, "DROPPED", reason, None, frame.T_map_camera_gt))
                continue
            records.append(
                FrameRecord(
                    index=frame.index,
                    stamp_ns=frame.stamp_ns,
                    state=LocalizationState(status.state).name,
                    reason=status.reason,
                    T_est=recorder.poses.get(frame.stamp_ns),
                    T_gt=frame.T_map_camera_gt,
                    num_matches=status.num_matches,
                    num_inliers=status.num_inliers,
                    reprojection_rmse_px=status.reprojection_rmse_px,
                    keyframe_ids=list(status.keyframe_ids),
                    timings={t.stage: t.seconds for t in status.timings},
                )
            )
    return records


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    with output_folder(args.output, args.overwrite) as partial:
        summary = _run(args, partial, started)
    out = args.output
    print(f"[demo] node poses recorded in {out / 'poses.bag'}; node log {out / 'node.log'}")
    print(f"[demo] plots: {out / 'trajectory.png'}, {out / 'errors.png'}; per frame: {out / 'frames.csv'}")
    accuracy = summary["accuracy"]
    ate = accuracy["ate_rmse_m"]
    localized_any = ate is not None and ate == ate  # NaN when no frame was localized
    ate_text = f"ATE {ate:.3f} m over the localized frames" if localized_any else "no ATE: none localized"
    print(
        f"Demo: localized {accuracy['localized']} / {accuracy['frames']} frames over DDS in "
        f"{time.monotonic() - started:.0f} s; {ate_text}."
    )
    return 0 if accuracy["localized"] > 0 else 1


def _run(args: argparse.Namespace, out: Path, started: float) -> dict:
    """The demo written into ``out`` (a temporary folder moved into place by the caller); its summary."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from loftr_ros.bags.sources import synthetic_bag
    from loftr_ros.evaluation.plots import plot_errors, plot_trajectory
    from loftr_ros.evaluation.report import format_summary, summarize, write_csv, write_json

    width, height = args.size
    bag, map_path = out / "camera.bag", out / "map.db"
    drift = args.odometry_drift if args.odometry_drift >= 0 else None
    contents = synthetic_bag(bag, args.seed, args.frames, keyframe_every=args.keyframe_every, width=width,
                             height=height, fps=args.fps, odometry_drift=drift, map_path=map_path)  # fmt: skip
    print(f"[demo] wrote {bag} and {map_path} ({time.monotonic() - started:.1f} s): {contents}")

    log_path = out / "node.log"
    with log_path.open("w") as log:
        node_process = subprocess.Popen(_node_command(args, map_path), stdout=log, stderr=subprocess.STDOUT)
    rclpy.init()
    node = rclpy.create_node("loftr_ros_demo")
    recorder = Recorder(node, out / "poses.bag")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + args.timeout
        while recorder.keyframes_in_node <= 0:
            if node_process.poll() is not None or time.monotonic() > deadline:
                raise LoftrRosError(f"the node did not start; the end of its log:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        print(f"[demo] node up with {recorder.keyframes_in_node} keyframes ({time.monotonic() - started:.1f} s)")
        # `loftr-ros replay`, as a user would run it (what `ros2 bag play --clock` does)
        streams = [topics.IMAGE_TOPIC, topics.CAMERA_INFO_TOPIC, *([topics.ODOM_TOPIC] if drift is not None else [])]
        replay = [sys.executable, "-m", "loftr_ros.cli", "replay", str(bag), "--topics", *streams,
                  "--wait-for-subscribers", "10"]  # fmt: skip
        print(f"[demo] {' '.join(replay[2:])}")
        if subprocess.run(replay, timeout=args.timeout, check=False).returncode != 0:
            raise LoftrRosError(f"replaying {bag} failed")
        quiet_since = time.monotonic()
        seen = len(recorder.statuses)
        while time.monotonic() - quiet_since < 5.0 and time.monotonic() < deadline:  # let the node drain
            time.sleep(0.2)
            if len(recorder.statuses) != seen:
                seen, quiet_since = len(recorder.statuses), time.monotonic()
    finally:
        node_process.terminate()
        try:
            node_process.wait(10)
        except subprocess.TimeoutExpired:
            node_process.kill()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
        recorder.close()

    records = _records(bag, recorder)
    summary = summarize(records)
    summary["config"] = {"seed": args.seed, "frames": args.frames, "size": f"{width}x{height}", "fps": args.fps,
                         "odometry_drift": drift, "matcher": args.matcher,
                         "weights": args.weights or "shipped"}  # fmt: skip
    write_json(summary, out / "summary.json")
    write_csv(records, out / "frames.csv")
    plot_trajectory(records, out / "trajectory.png", "loftr_localizer on the demo bag")
    plot_errors(records, out / "errors.png", "loftr_localizer on the demo bag")
    print(format_summary(summary))
    return summary
