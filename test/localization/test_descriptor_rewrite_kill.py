"""Descriptor conversion is atomic (issue 13): a process killed at a random point while it rewrites a map's
descriptors leaves the old descriptors or all the new ones, and the map always opens."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

ROOT = str(Path(__file__).resolve().parents[2])

# Opens the map again and again with a matcher of the other source: every open converts all descriptors.
_CONVERTER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np
    from loftr_ros.localization.config import LocalizerConfig
    from loftr_ros.localization.keyframe_map import KeyframeMap
    from loftr_ros.localization.store import KeyframeStore

    class Describer:
        fingerprint = "x"
        def __init__(self, dim):
            self.descriptor_source, self.dim = f"dim{{dim}}", dim
        def describe(self, image):
            return np.full(self.dim, 1.0, np.float32)
        def extract(self, image): ...
        def match(self, query, keyframes): ...

    dim = 8
    while True:
        with KeyframeStore({path!r}) as store:
            KeyframeMap(store, Describer(dim), LocalizerConfig())
        print(dim, flush=True)
        dim = 4 if dim == 8 else 8
    """
)


def test_killed_descriptor_rewrites_leave_a_consistent_map(tmp_path: Path) -> None:
    path = tmp_path / "map.db"
    K = CameraIntrinsics(32, 24, 30.0, 30.0, 15.5, 11.5)
    with KeyframeStore(path) as store:
        for i in range(20):
            image = np.full((24, 32), i, np.uint8)
            store.add(Keyframe(f"kf{i}", i, "map", image, K, np.eye(4), descriptor=np.full(4, 1.0, np.float32)))
        store.set_descriptor_source("dim4")
    rng = random.Random(0)
    conversions = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", _CONVERTER.format(root=ROOT, path=str(path))],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # one conversion done: the next one is under way
            conversions += 1
            time.sleep(rng.uniform(0.0, 0.05))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()  # type: ignore[union-attr]
        with KeyframeStore(path) as store:  # opens, and holds one descriptor size with its source
            _, descriptors, has, _ = store.index_data()
            assert has.all()
            assert store.descriptor_source == f"dim{descriptors.shape[1]}"
    assert conversions == 20
