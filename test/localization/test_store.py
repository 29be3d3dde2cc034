"""The SQLite keyframe map: round trips, lazy listing, features by fingerprint, refusal, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from loftr_ros.errors import MapError
from loftr_ros.localization import store as store_module
from loftr_ros.localization.store import APPLICATION_ID, SCHEMA_VERSION, KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

K = CameraIntrinsics(64, 48, 50.0, 51.0, 31.5, 23.5, "plumb_bob", (0.1, -0.01, 0.0, 0.0, 0.0))


def _keyframe(i: int, depth: bool = True, color: bool = True) -> Keyframe:
    rng = np.random.default_rng(i)
    T = np.eye(4)
    T[:3, 3] = [i, 0.5 * i, 0.0]
    shape = (48, 64, 3) if color else (48, 64)
    d = rng.uniform(0.5, 4, (48, 64)).astype(np.float32)
    d[0, 0], d[1, 1] = 0.0, np.nan
    return Keyframe(
        id=f"kf{i}", stamp_ns=1_700_000_000_000_000_000 + i, frame_id="map",
        image=rng.integers(0, 256, shape, dtype=np.uint8), intrinsics=K, T_map_camera=T,
        depth=d if depth else None, descriptor=rng.normal(size=8).astype(np.float32),
    )  # fmt: skip


def _same(a: Keyframe, b: Keyframe) -> None:
    assert (a.id, a.stamp_ns, a.frame_id, a.intrinsics) == (b.id, b.stamp_ns, b.frame_id, b.intrinsics)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.T_map_camera, b.T_map_camera)
    np.testing.assert_array_equal(a.descriptor, b.descriptor)
    if a.depth is None:
        assert b.depth is None
    else:
        np.testing.assert_array_equal(a.depth, b.depth)  # NaN == NaN here: lossless


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    kfs = [_keyframe(0), _keyframe(1, depth=False), _keyframe(2, color=False)]
    with KeyframeStore(tmp_path / "map.db") as store:
        for kf in kfs:
            store.add(kf)
    with KeyframeStore(tmp_path / "map.db", readonly=True) as store:
        assert len(store) == 3 and "kf1" in store and "nope" not in store
        for kf in kfs:
            _same(kf, store.get(kf.id))
        infos = store.list()
        assert [i.id for i in infos] == ["kf0", "kf1", "kf2"]
        assert [i.has_depth for i in infos] == [True, False, True]


def test_wal_schema_version_and_application_id(tmp_path: Path) -> None:
    KeyframeStore(tmp_path / "map.db").close()
    db = sqlite3.connect(tmp_path / "map.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_add_update_remove(tmp_path: Path) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        store.add(_keyframe(0))
        with pytest.raises(MapError, match="already has a keyframe 'kf0'"):
            store.add(_keyframe(0))
        replacement = _keyframe(5)
        replacement.id = "kf0"
        store.add(replacement, replace=True)
        _same(replacement, store.get("kf0"))
        T = np.eye(4)
        T[:3, 3] = [9.0, 9.0, 9.0]
        store.update("kf0", T_map_camera=T, descriptor=np.ones(8, np.float32), stamp_ns=7)
        info = store.info("kf0")
        np.testing.assert_array_equal(info.T_map_camera, T)
        assert info.stamp_ns == 7 and np.allclose(info.descriptor, 1)
        assert store.nearest(T, 1)[0][1] == pytest.approx(0.0)
        with pytest.raises(MapError, match="no keyframe 'zz'"):
            store.update("zz", stamp_ns=1)
        assert store.remove("kf0") and not store.remove("kf0")
        assert len(store) == 0
        with pytest.raises(MapError, match="no keyframe 'kf0'"):
            store.get("kf0")


def test_nearest_by_pose_with_distance_and_angle(tmp_path: Path) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        for i in range(10):
            store.add(_keyframe(i, depth=False))
        T = np.eye(4)
        T[:3, 3] = [3.2, 1.6, 0.0]
        found = store.nearest(T, 3)
        assert [f[0].id for f in found] == ["kf3", "kf4", "kf2"]
        assert [f[0].id for f in store.nearest(T, 10, max_distance_m=1.2)] == ["kf3", "kf4", "kf2"][:2]
        T_away = T.copy()
        T_away[:3, :3] = np.diag([1.0, -1.0, -1.0])  # looking backwards
        assert store.nearest(T_away, 3, max_angle_deg=90) == []


def test_listing_a_large_map_does_not_decode_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        kf = _keyframe(0)
        big = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
        kf.image, kf.depth = big, None
        kf.intrinsics = CameraIntrinsics(320, 240, 250, 250, 159.5, 119.5)
        for i in range(200):
            kf.id = f"k{i:03d}"
            store.add(kf)
    decoded = []
    monkeypatch.setattr(store_module, "decode_image", lambda *a: decoded.append(1))
    with KeyframeStore(tmp_path / "map.db", readonly=True) as store:
        infos = store.list()
        _, desc, poses = store.descriptors()
    assert len(infos) == 200 and desc.shape == (200, 8) and poses.shape == (200, 4, 4)
    assert decoded == []  # pixels decode only in get(): the 200 x ~230 kB of PNG live in another table


def test_refuses_files_that_are_not_maps(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database" * 100)
    with pytest.raises(MapError, match=r"notes\.txt is not a loftr_ros map"):
        KeyframeStore(text)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(MapError, match=r"other\.db is not a loftr_ros map"):
        KeyframeStore(other)
    with pytest.raises(MapError, match=r"missing\.db does not exist"):
        KeyframeStore(tmp_path / "missing.db", create=False)


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    KeyframeStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(MapError, match=r"future.db has map schema version 2, newer"):
        KeyframeStore(path)


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from loftr_ros.localization.store import KeyframeStore
    from loftr_ros.localization.types import CameraIntrinsics, Keyframe

    K = CameraIntrinsics(160, 120, 100.0, 100.0, 79.5, 59.5)
    store = KeyframeStore({path!r})
    i = 0
    while True:
        rng = np.random.default_rng(i)
        T = np.eye(4)
        T[0, 3] = i
        kf = Keyframe(f"kf{{i}}", i, "map", rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), K, T,
                      rng.uniform(1, 2, (120, 160)).astype(np.float32), np.full(4, i, np.float32))
        store.add(kf)
        print(kf.id, flush=True)
        i += 1
    """
)


def test_a_killed_writer_leaves_every_committed_keyframe(tmp_path: Path) -> None:
    path = tmp_path / "map.db"
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER.format(root=root, path=str(path))], stdout=subprocess.PIPE, text=True
    )
    committed = []
    try:
        deadline = time.monotonic() + 30
        while len(committed) < 40 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: it was adding the next keyframe
        proc.wait()
        proc.stdout.close()
    assert len(committed) >= 40, "the writer did not get going"
    with KeyframeStore(path) as store:
        ids = set(store.ids())
        assert set(committed) <= ids  # at most one more: the write in flight may have committed
        assert len(ids) - len(committed) <= 1
        for kid in sorted(ids):
            i = int(kid[2:])
            kf = store.get(kid)
            rng = np.random.default_rng(i)
            np.testing.assert_array_equal(kf.image, rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
            np.testing.assert_array_equal(kf.depth, rng.uniform(1, 2, (120, 160)).astype(np.float32))
            assert kf.T_map_camera[0, 3] == i
        store.add(_keyframe(999))  # and it is writable again


def test_index_data_marks_keyframes_without_descriptor(tmp_path: Path) -> None:
    with KeyframeStore(tmp_path / "map.db") as store:
        a, b = _keyframe(0, depth=False), _keyframe(1, depth=False)
        b.descriptor = None
        store.add(a)
        store.add(b)
        ids, desc, has, poses = store.index_data()
        assert ids == ["kf0", "kf1"] and has.tolist() == [True, False]
        np.testing.assert_array_equal(desc[0], a.descriptor)
        assert not desc[1].any() and poses[1, 0, 3] == 1.0
        c = _keyframe(2, depth=False)
        c.descriptor = np.ones(3, np.float32)
        store.add(c)
        with pytest.raises(MapError, match="mixes descriptor sizes"):
            store.index_data()


def test_an_empty_file_is_refused_not_turned_into_a_map(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(MapError, match=r"empty.db is empty \(0 bytes\)"):
        KeyframeStore(tmp_path / "empty.db")
    assert (tmp_path / "empty.db").stat().st_size == 0
    assert not KeyframeStore.is_map_file(tmp_path / "empty.db")


def _valid_map(path: Path, count: int = 30) -> None:
    with KeyframeStore(path) as store:
        for i in range(count):
            store.add(_keyframe(i))


@pytest.mark.parametrize("damage", ["no tables", "random bytes in the middle", "truncated"])
def test_a_damaged_map_is_refused_naming_it_and_left_unchanged(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "map.db"
    if damage == "no tables":
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("CREATE TABLE unrelated (x)")
        db.commit()
        db.close()
    else:
        _valid_map(path)
        data = bytearray(path.read_bytes())
        if damage == "truncated":
            data = data[: len(data) // 2]
        else:
            middle = len(data) // 2
            data[middle : middle + 8192] = np.random.default_rng(0).integers(0, 256, 8192, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(MapError, match=r"map\.db"), KeyframeStore(path) as store:
        store.index_data()
        for kid in store.ids():
            store.get(kid)
    assert path.read_bytes() == before  # a failed open changes nothing on disk
