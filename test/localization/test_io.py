"""Import from TUM folders, keyframe CSVs and rosbags; export back to a folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from support.data import SHARED_TUM

from loftr_ros.errors import MapError
from loftr_ros.localization.io import (
    Trajectory,
    export_folder,
    import_csv,
    import_tum,
    seconds_to_ns,
)
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe
from loftr_ros.transforms import pose_error, pose_from_tq

TUM = SHARED_TUM
TUM_K = CameraIntrinsics(640, 480, 535.4, 539.2, 320.1, 247.6)


def test_seconds_to_ns_is_exact() -> None:
    assert seconds_to_ns("1341847980.722988") == 1341847980722988000
    assert seconds_to_ns("12") == 12_000_000_000


def test_trajectory_interpolates_and_never_extrapolates(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("# t x y z qx qy qz qw\n1.0 0 0 0 0 0 0 1\n2.0 2 0 0 0 0 0.7071068 0.7071068\n")
    traj = Trajectory.read_tum(gt)
    mid = traj.at(1_500_000_000, max_gap_ns=2_000_000_000)
    assert mid[0, 3] == pytest.approx(1.0)
    assert pose_error(mid, pose_from_tq([1, 0, 0], [0, 0, 0.3826834, 0.9238795]))[1] < 1e-4
    assert traj.at(900_000_000) is None and traj.at(2_100_000_000) is None
    assert traj.at(1_500_000_000, max_gap_ns=10) is None


@pytest.mark.skipif(not TUM.exists(), reason="the TUM subset is not in ../shared/data")
def test_import_tum_rgbd(tmp_path: Path) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        count = import_tum(store, TUM / "rgbd/rgb", TUM / "groundtruth.txt", TUM_K, TUM / "rgbd/depth")
        # frames before the first ground-truth stamp (1341847980.79) are skipped
        assert 0 < count < 16
        first = store.get(store.ids()[0])
        assert first.stamp_ns >= seconds_to_ns("1341847980.79")
        assert first.image.shape == (480, 640, 3) and first.depth.dtype == np.float32
        valid = first.depth[first.depth > 0]
        assert 0.3 < np.median(valid) < 5.0  # metres (5000 units per metre)
        raw = cv2.imread(str(sorted((TUM / "rgbd/depth").iterdir())[2]), cv2.IMREAD_UNCHANGED)
        assert raw.dtype == np.uint16


def _keyframes(n: int) -> list[Keyframe]:
    rng = np.random.default_rng(0)
    K = CameraIntrinsics(40, 30, 35.0, 36.0, 19.5, 14.5, "plumb_bob", (0.01, -0.002, 0.0, 0.0, 0.0))
    out = []
    for i in range(n):
        T = pose_from_tq(rng.normal(size=3), rng.normal(size=4))
        depth = rng.uniform(0.5, 3, (30, 40)).astype(np.float32) if i % 2 == 0 else None
        image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        out.append(Keyframe(f"kf/{i}", 10 + i, "map", image, K, T, depth,
                            rng.normal(size=16).astype(np.float32)))  # fmt: skip
    return out


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    kfs = _keyframes(4)
    with KeyframeStore(tmp_path / "a.db") as store:
        for kf in kfs:
            store.add(kf)
        csv_path = export_folder(store, tmp_path / "out")
    with KeyframeStore(tmp_path / "b.db") as store:
        assert import_csv(store, csv_path) == 4
        for kf in kfs:
            got = store.get(kf.id)
            np.testing.assert_array_equal(got.image, kf.image)
            np.testing.assert_allclose(got.T_map_camera, kf.T_map_camera, atol=1e-12)
            assert got.intrinsics == kf.intrinsics and got.stamp_ns == kf.stamp_ns
            np.testing.assert_array_equal(got.descriptor, kf.descriptor)
            if kf.depth is None:
                assert got.depth is None
            else:
                np.testing.assert_array_equal(got.depth, kf.depth)


def test_csv_with_16_bit_depth_and_defaults(tmp_path: Path) -> None:
    image = np.full((30, 40, 3), 100, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    cv2.imwrite(str(tmp_path / "a_depth.png"), np.full((30, 40), 1500, np.uint16))
    (tmp_path / "keyframes.csv").write_text(
        "image,tx,ty,tz,qx,qy,qz,qw,width,height,fx,fy,cx,cy,depth\n"
        "a.png,1,2,3,0,0,0,1,40,30,35,35,19.5,14.5,a_depth.png\n"
    )
    with KeyframeStore(tmp_path / "m.db") as store:
        assert import_csv(store, tmp_path / "keyframes.csv") == 1
        kf = store.get("a")
        assert kf.frame_id == "map" and kf.depth[0, 0] == pytest.approx(1.5)  # millimetres by default
        assert kf.T_map_camera[:3, 3].tolist() == [1, 2, 3]
    (tmp_path / "bad.csv").write_text("image,tx\na.png,1\n")
    with (
        KeyframeStore(tmp_path / "m.db") as store,
        pytest.raises(MapError, match=r"bad\.csv lacks the column"),
    ):
        import_csv(store, tmp_path / "bad.csv")
