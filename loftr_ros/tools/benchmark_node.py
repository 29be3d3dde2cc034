"""`loftr-ros benchmark-node`: the node under a live camera stream, over DDS.

Publishes a synthetic 30 Hz stream (images and camera_info stamped with the wall clock) into the node
running as its own process, and prints the processed rate, the drop rate, the latency from image stamp
to pose publication, and the node's own overhead: everything but the localization core's work (retrieval,
whose LoFTR query pass the matching reuses, matching and pose solving): decoding, conversion, publishing,
DDS both ways; per processed frame and as a share of its latency. Waiting in the one-slot buffer for the
worker is left out too: it is the price of always processing the newest frame.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from loftr_ros import conversions
from loftr_ros.tools import WEIGHTS_HELP, parse_size
from loftr_ros.tools.demo import default_params_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--matcher", default="loftr", choices=("loftr", "sift", "orb"), help="the node's matcher")
    parser.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    parser.add_argument("--rate", type=float, default=30.0, help="camera rate, Hz")
    parser.add_argument("--seconds", type=float, default=20.0, help="stream duration")
    parser.add_argument("--size", type=parse_size, default="320x240", metavar="WxH", help="image size")
    parser.add_argument("--seed", type=int, default=3, help="synthetic scene")
    parser.add_argument("--rss-every", type=float, default=30.0, metavar="S", help="sample the node's RSS every S s")
    parser.epilog = "example (a 10-minute soak with its memory curve): loftr-ros benchmark-node --seconds 600"


def run(args: argparse.Namespace) -> int:
    import rclpy
    from geometry_msgs.msg import PoseWithCovarianceStamped
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image
    from std_msgs.msg import Header

    from loftr_ros.bags.sources import write_map
    from loftr_ros.localization.types import Keyframe
    from loftr_ros.msg import LocalizationStatus
    from loftr_ros.synthetic.pairs import PairConfig, make_sequence

    width, height = args.size
    sequence = make_sequence(args.seed, n_frames=40, keyframe_every=2, config=PairConfig(width=width, height=height))
    keyframes = [Keyframe(f"kf{i}", i, "map", v.image, v.intrinsics, v.T_world_camera, v.depth)
                 for i, v in enumerate(sequence.keyframes)]  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="loftr_ros_bench_"))
    write_map(keyframes, workdir / "map.db")
    command = [
        sys.executable, "-m", "loftr_ros.node", "--ros-args", "--params-file", str(default_params_file(workdir)),
        "-p", f"map_path:={workdir / 'map.db'}", "-p", f"matcher.type:={args.matcher}", "-p", "matcher.max_side:=0",
        *(["-p", f"matcher.weights:={args.weights}"] if args.weights else []),
    ]  # fmt: skip
    log = (workdir / "node.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    rclpy.init()
    node = rclpy.create_node("loftr_ros_benchmark")
    arrivals: dict[int, float] = {}  # stamp -> wall time the pose arrived
    statuses: dict[int, LocalizationStatus] = {}
    node.create_subscription(
        PoseWithCovarianceStamped,
        "/loftr_localizer/pose",
        lambda m: arrivals.setdefault(conversions.stamp_to_ns(m.header.stamp), time.time()),
        100,
    )
    node.create_subscription(
        LocalizationStatus, "/loftr_localizer/status",
        lambda m: statuses.setdefault(conversions.stamp_to_ns(m.header.stamp), m), 100,
    )  # fmt: skip
    images = node.create_publisher(Image, "/image", qos_profile_sensor_data)
    infos = node.create_publisher(CameraInfo, "/camera_info", qos_profile_sensor_data)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not statuses and time.monotonic() < deadline:  # warm up until the node answers a frame
            _publish(images, infos, sequence.queries[0], time.time_ns(), Header, conversions)
            time.sleep(0.5)
        statuses.clear()
        arrivals.clear()
        published, period = 0, 1.0 / args.rate
        start = time.monotonic()
        rss_curve = [(0.0, node_rss_mb(process.pid))]
        while time.monotonic() - start < args.seconds:
            view = sequence.queries[published % len(sequence.queries)]
            _publish(images, infos, view, time.time_ns(), Header, conversions)
            published += 1
            if time.monotonic() - start >= rss_curve[-1][0] + args.rss_every:
                rss_curve.append((time.monotonic() - start, node_rss_mb(process.pid)))
            time.sleep(max(0.0, start + published * period - time.monotonic()))
        rss_curve.append((time.monotonic() - start, node_rss_mb(process.pid)))
        time.sleep(3.0)  # the last frame in flight
    finally:
        process.terminate()
        process.wait(10)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()
        log.close()
    _report(args, published, statuses, arrivals)
    curve = ", ".join(f"{t:.0f} s {mb:.0f}" for t, mb in rss_curve)
    print(f"  node RSS MB over time: {curve}")
    if len(rss_curve) > 2:  # growth after the first interval, once the caches and DDS queues have filled
        print(f"  RSS growth from {rss_curve[1][0]:.0f} s to the end: {rss_curve[-1][1] / rss_curve[1][1] - 1:+.1%}")
    return 0


def node_rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _publish(images, infos, view, stamp_ns: int, header_type, conversions) -> None:
    header = header_type(stamp=conversions.ns_to_stamp(stamp_ns), frame_id="camera_optical_frame")
    infos.publish(conversions.intrinsics_to_camera_info(view.intrinsics, header))
    images.publish(conversions.rgb_to_image(view.image, header))


def _report(args: argparse.Namespace, published: int, statuses: dict, arrivals: dict[int, float]) -> None:
    processed = len(statuses)
    latencies = np.array([arrivals[s] - s * 1e-9 for s in arrivals])
    # not the node's work: the core (retrieval with LoFTR's query pass, matching, pose) and waiting for the worker
    core_stages = ("retrieve", "match", "pose", "queue")
    core = {s: sum(t.seconds for t in m.timings if t.stage in core_stages) for s, m in statuses.items()}
    overhead = np.array([arrivals[s] - s * 1e-9 - core[s] for s in arrivals if s in core])
    share = overhead / np.maximum(latencies[: len(overhead)], 1e-9)
    stages = {}
    for m in statuses.values():
        for t in m.timings:
            stages.setdefault(t.stage, []).append(t.seconds * 1000)
    size = "x".join(map(str, args.size))
    print(f"loftr_localizer under a {args.rate:g} Hz {size} stream for {args.seconds:g} s, matcher {args.matcher}")
    print(
        f"  published {published} frames, processed {processed} ({processed / args.seconds:.2f} Hz), "
        f"dropped {published - processed} ({100 * (published - processed) / max(published, 1):.1f}%)"
    )
    if len(latencies):
        print(
            f"  latency image stamp -> pose received: p50 {1000 * np.median(latencies):.0f} ms, "
            f"p90 {1000 * np.percentile(latencies, 90):.0f} ms ({len(latencies)} poses)"
        )
        print(
            "  node overhead (all but the core's retrieve/match/pose and waiting for the worker): "
            f"p50 {1000 * np.median(overhead):.1f} ms, "
            f"{100 * np.median(share):.1f}% of the frame's latency (target < 10%)"
        )
    print("  stage p50 ms: " + ", ".join(f"{k} {np.median(v):.1f}" for k, v in stages.items()))  # fmt: skip
