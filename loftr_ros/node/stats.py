"""What the node counts and measures, for /diagnostics. Thread-safe; no ROS here."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np


class NodeStats:
    """Counters and recent latencies; ``snapshot()`` turns them into the diagnostic key/values."""

    def __init__(self, window: int = 200) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()  # received, processed, localized, dropped, skipped_no_camera_info
        self.rejections: Counter[str] = Counter()  # by reason category
        self._latency_s: deque[float] = deque(maxlen=window)  # image stamp -> pose published
        self._processing_s: deque[float] = deque(maxlen=window)  # worker time per frame
        self._processed_at: deque[float] = deque(maxlen=window)
        self.last_state = ""
        self.last_reason = ""

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def reject(self, category: str) -> None:
        with self._lock:
            self.rejections[category] += 1

    def processed(self, processing_s: float, state: str, reason: str, latency_s: float | None) -> None:
        with self._lock:
            self.counts["processed"] += 1
            self._processing_s.append(processing_s)
            self._processed_at.append(time.monotonic())
            if latency_s is not None:
                self._latency_s.append(latency_s)
            self.last_state, self.last_reason = state, reason

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            now = time.monotonic()
            recent = [t for t in self._processed_at if now - t <= 10.0]
            rate = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0
            images = self.counts["received_images"]
            values = {
                "processed_rate_hz": f"{rate:.2f}",
                "drop_rate": f"{self.counts['dropped'] / images:.3f}" if images else "0.000",
                "last_state": self.last_state,
                "last_reason": self.last_reason,
            }
            values.update({name: str(n) for name, n in sorted(self.counts.items())})
            values.update({f"rejected.{name}": str(n) for name, n in sorted(self.rejections.items())})
            for name, samples in (("latency", self._latency_s), ("processing", self._processing_s)):
                if samples:
                    ms = np.asarray(samples) * 1000.0
                    values[f"{name}_p50_ms"] = f"{np.percentile(ms, 50):.1f}"
                    values[f"{name}_max_ms"] = f"{ms.max():.1f}"
            return values
