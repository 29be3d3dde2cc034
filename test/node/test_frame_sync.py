"""Stamp pairing of images with camera_info, and the one-slot buffer."""

from __future__ import annotations

import threading

from loftr_ros.node.frame_sync import LatestSlot, StampPairer
from loftr_ros.node.stats import NodeStats

MS = 1_000_000


def test_image_pairs_with_the_nearest_info_within_tolerance() -> None:
    pairer: StampPairer[str, str] = StampPairer(tolerance_ns=5 * MS, pending_timeout_s=1.0)
    pairer.add_info(100 * MS, "info@100")
    pairer.add_info(108 * MS, "info@108")
    assert pairer.add_image(104 * MS, "img@104") == ("info@100", "img@104")
    assert pairer.add_image(107 * MS, "img@107") == ("info@108", "img@107")
    assert pairer.add_image(120 * MS, "img@120") is None  # waits for its info


def test_late_info_completes_a_waiting_image_and_stale_images_expire() -> None:
    pairer: StampPairer[str, str] = StampPairer(tolerance_ns=2 * MS, pending_timeout_s=0.5)
    assert pairer.add_image(10 * MS, "a", now_s=0.0) is None
    assert pairer.add_image(50 * MS, "b", now_s=0.1) is None
    assert pairer.add_info(11 * MS, "info@11") == [("info@11", "a")]
    assert pairer.expire(now_s=0.3) == []
    assert pairer.expire(now_s=0.7) == ["b"]


def test_latest_slot_keeps_only_the_newest_and_reports_drops() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is None
    assert slot.put(2) == 1
    assert slot.take(timeout_s=0.1) == 2
    assert slot.take(timeout_s=0.05) is None
    got = []
    consumer = threading.Thread(target=lambda: got.append(slot.take(timeout_s=5)))
    consumer.start()
    slot.put(3)
    consumer.join(5)
    assert got == [3]
    slot.close()
    assert slot.take(timeout_s=5) is None


def test_stats_snapshot_counts_drops_rejections_and_latency() -> None:
    stats = NodeStats()
    for _ in range(4):
        stats.count("received_images")
    stats.count("dropped")
    stats.reject("image")
    stats.processed(0.05, "LOCALIZED", "", latency_s=0.2)
    snapshot = stats.snapshot()
    assert snapshot["drop_rate"] == "0.250" and snapshot["rejected.image"] == "1"
    assert snapshot["latency_p50_ms"] == "200.0" and snapshot["processed"] == "1"
