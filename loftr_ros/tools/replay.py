"""``loftr-ros replay BAG``: publish a bag over DDS at its recorded timing, with /clock.

What ``ros2 bag play --clock`` does, for machines without rosbag2: run the node with
``use_sim_time:=true`` and it sees the recording's time. Keyframes are published reliable + transient
local, like a live map. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from loftr_ros.bags.replay import ReplayOptions

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bag", type=Path, help="rosbag2 folder (sqlite3 or MCAP)")
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed factor")
    parser.add_argument("--topics", nargs="+", default=[], help="topics to play (default: all)")
    parser.add_argument("--loop", action="store_true", help="play again from the start until interrupted")
    parser.add_argument("--start-offset", type=float, default=0.0, help="skip the first S seconds of the bag")
    parser.add_argument(
        "--no-clock", action="store_true", help="do not publish /clock (a recorded /clock plays)"
    )
    parser.add_argument("--clock-hz", type=float, default=40.0, help="/clock rate between messages, Hz")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before the first message")
    parser.add_argument(
        "--wait-for-subscribers", type=float, default=0.0, metavar="S",
        help="wait up to S seconds for every topic to have a subscriber before playing",
    )  # fmt: skip
    parser.add_argument(
        "--domain-id", type=int, default=None, help="ROS_DOMAIN_ID (default: the environment's)"
    )


def options_from_args(args: argparse.Namespace) -> ReplayOptions:
    return ReplayOptions(
        rate=args.rate, topics=tuple(args.topics), loop=args.loop, start_offset_s=args.start_offset,
        clock=not args.no_clock, clock_hz=args.clock_hz, delay_s=args.delay,
        wait_for_subscribers_s=args.wait_for_subscribers,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import rclpy

    from loftr_ros.bags.reader import BagReader
    from loftr_ros.bags.replay import BagPlayer

    options = options_from_args(args)
    options.validate()
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    previous = signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    context = rclpy.Context()
    init_args = {} if args.domain_id is None else {"domain_id": args.domain_id}
    rclpy.init(context=context, **init_args)
    try:
        node = rclpy.create_node("loftr_bag_player", context=context)
        try:
            with BagReader(args.bag) as reader:
                player = BagPlayer(node, reader, options)
                logger.info("playing %s: %s, rate %g", args.bag, ", ".join(player.topics), options.rate)
                stats = player.play(should_stop=lambda: stop)
        finally:
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
        signal.signal(signal.SIGINT, previous)
    print(
        f"Replayed {stats.messages} messages on {len(stats.per_topic or {})} topics in {stats.wall_s:.2f} s"
        f" ({stats.passes} pass(es), rate {options.rate:g}{', interrupted' if stop else ''})."
    )
    return 0
