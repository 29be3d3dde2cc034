"""Pairing images with camera_info by stamp, and the one-slot buffer between the executor and the worker.

No ROS here: the node feeds stamps (integer nanoseconds) and opaque payloads, so both parts are tested alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
InfoT = TypeVar("InfoT")
ImageT = TypeVar("ImageT")


@dataclass
class PendingImage(Generic[ImageT]):
    stamp_ns: int
    image: ImageT
    arrived_s: float  # time.monotonic() at arrival


class StampPairer(Generic[ImageT, InfoT]):
    """Pairs each image with the camera_info nearest in stamp, within a tolerance.

    camera_info may arrive before or after its image: an unpaired image waits up to ``pending_timeout_s``
    (wall time) for one, then is expired. Pairs come out in arrival order of their completion.
    """

    def __init__(self, tolerance_ns: int, pending_timeout_s: float, history: int = 100, max_pending: int = 10):
        self.tolerance_ns = tolerance_ns
        self.pending_timeout_s = pending_timeout_s
        self._infos: deque[tuple[int, InfoT]] = deque(maxlen=history)
        self._pending: deque[PendingImage[ImageT]] = deque()
        self._max_pending = max_pending

    def nearest_info(self, stamp_ns: int) -> InfoT | None:
        """The stored camera_info nearest to ``stamp_ns`` within the tolerance, if any."""
        best, best_dt = None, None
        for info_stamp, info in self._infos:
            dt = abs(info_stamp - stamp_ns)
            if dt <= self.tolerance_ns and (best_dt is None or dt < best_dt):
                best, best_dt = info, dt
        return best

    def add_image(self, stamp_ns: int, image: ImageT, now_s: float | None = None) -> tuple[InfoT, ImageT] | None:
        """The image's pair if its camera_info is here already; else the image waits (None)."""
        info = self.nearest_info(stamp_ns)
        if info is not None:
            return info, image
        self._pending.append(PendingImage(stamp_ns, image, time.monotonic() if now_s is None else now_s))
        return None

    def add_info(self, stamp_ns: int, info: InfoT) -> list[tuple[InfoT, ImageT]]:
        """Store a camera_info; returns the waiting images it completes."""
        self._infos.append((stamp_ns, info))
        paired = [p for p in self._pending if abs(p.stamp_ns - stamp_ns) <= self.tolerance_ns]
        for p in paired:
            self._pending.remove(p)
        return [(info, p.image) for p in paired]

    def expire(self, now_s: float | None = None) -> list[ImageT]:
        """Images that waited too long (or overflowed the queue) for a camera_info: they are skipped."""
        now_s = time.monotonic() if now_s is None else now_s
        expired = []
        while self._pending and (
            len(self._pending) > self._max_pending or now_s - self._pending[0].arrived_s > self.pending_timeout_s
        ):
            expired.append(self._pending.popleft().image)
        return expired


class LatestSlot(Generic[T]):
    """A one-item mailbox: a new item replaces the waiting one, which is returned as dropped."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._closed = False
        self._ready = threading.Condition()

    def put(self, item: T) -> T | None:
        with self._ready:
            dropped, self._item = self._item, item
            self._ready.notify()
            return dropped

    def take(self, timeout_s: float | None = None) -> T | None:
        """The waiting item, or None after ``timeout_s`` or once closed."""
        with self._ready:
            self._ready.wait_for(lambda: self._item is not None or self._closed, timeout=timeout_s)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
