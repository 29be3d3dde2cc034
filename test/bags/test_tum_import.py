"""A real TUM RGB-D folder becomes a bag and a map with the frames, depth and ground truth it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.data import SHARED_TUM

from loftr_ros.bags import BagReader, topics
from loftr_ros.bags.sequence import query_frames, read_keyframes
from loftr_ros.bags.sources import TUM_FR3_INTRINSICS, tum_bag
from loftr_ros.errors import BagError
from loftr_ros.localization.io import Trajectory, read_depth, read_image, stamped_files
from loftr_ros.localization.store import KeyframeStore

TUM = SHARED_TUM
needs_tum = pytest.mark.skipif(not (TUM / "groundtruth.txt").exists(), reason=f"TUM data not found at {TUM}")


@needs_tum
def test_tum_folder_to_bag_and_map(tmp_path: Path) -> None:
    contents = tum_bag(
        TUM, tmp_path / "tum", keyframe_every=8, max_queries=3, storage="mcap", map_path=tmp_path / "m.db"
    )
    rgb = dict(stamped_files(TUM / "rgbd" / "rgb"))
    depth_files = stamped_files(TUM / "rgbd" / "depth")
    trajectory = Trajectory.read_tum(TUM / "groundtruth.txt")
    with BagReader(tmp_path / "tum") as reader:
        keyframes = read_keyframes(reader)
        frames = list(query_frames(reader))
    # keyframes: rgbd frames with ground truth, every 8th, each with the nearest depth in metres
    assert 1 <= len(keyframes) <= 2 and contents.num_keyframes == len(keyframes)
    for kf in keyframes:
        np.testing.assert_array_equal(kf.image, read_image(rgb[kf.stamp_ns]))
        nearest = min(depth_files, key=lambda f: abs(f[0] - kf.stamp_ns))[1]
        np.testing.assert_array_equal(kf.depth, read_depth(nearest, 5000.0))
        np.testing.assert_allclose(kf.T_map_camera, trajectory.at(kf.stamp_ns), atol=1e-12)
        assert kf.intrinsics.K.tolist() == TUM_FR3_INTRINSICS.K.tolist()
    # queries: the first three colour frames that are not keyframes, with interpolated ground truth
    assert len(frames) == 3
    assert not {f.stamp_ns for f in frames} & {kf.stamp_ns for kf in keyframes}
    for frame in frames:
        assert frame.image.shape == (480, 640, 3)
        expected = trajectory.at(frame.stamp_ns)
        if expected is None:
            assert frame.T_map_camera_gt is None
        else:
            np.testing.assert_allclose(frame.T_map_camera_gt, expected, atol=1e-9)
    assert contents.counts[topics.GROUND_TRUTH_TOPIC] > 10
    with KeyframeStore(tmp_path / "m.db", create=False, readonly=True) as store:
        assert sorted(store.ids()) == sorted(kf.id for kf in keyframes)


def test_not_a_tum_folder(tmp_path: Path) -> None:
    with pytest.raises(BagError, match=r"is not a TUM-style folder: .*rgb is missing"):
        tum_bag(tmp_path, tmp_path / "bag")
