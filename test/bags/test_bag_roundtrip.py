"""Bags written with rosbags read back exactly, in both storages, and stay readable by rosbags itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from loftr_ros.bags import BagReader, BagWriter, topics
from loftr_ros.bags.sequence import query_frames, read_ground_truth, read_keyframes
from loftr_ros.bags.sources import QueryView, synthetic_bag, write_bag
from loftr_ros.bags.types import typestore
from loftr_ros.errors import BagError
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import Keyframe
from loftr_ros.synthetic import PairConfig, Sequence, make_sequence

START_NS = 1_700_000_000_000_000_000
PERIOD_NS = 50_000_000


@pytest.fixture(scope="module")
def sequence() -> Sequence:
    return make_sequence(5, n_frames=8, keyframe_every=4, config=PairConfig(width=128, height=96))


def _parts(sequence: Sequence) -> tuple[list[Keyframe], list[QueryView], list[tuple[int, np.ndarray]]]:
    keyframes = [
        Keyframe(f"kf{i}", START_NS + i * PERIOD_NS, "map", v.image, v.intrinsics, v.T_world_camera, v.depth)
        for i, v in zip(sequence.keyframe_indices, sequence.keyframes, strict=True)
    ]
    queries = [
        QueryView(START_NS + i * PERIOD_NS, v.image, v.intrinsics)
        for i, v in zip(sequence.query_indices, sequence.queries, strict=True)
    ]
    views = sorted(
        [*zip(sequence.keyframe_indices, sequence.keyframes, strict=True),
         *zip(sequence.query_indices, sequence.queries, strict=True)], key=lambda p: p[0],
    )  # fmt: skip
    ground_truth = [(START_NS + i * PERIOD_NS, v.T_world_camera) for i, v in views]
    return keyframes, queries, ground_truth


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_synthetic_sequence_round_trips_exactly(tmp_path: Path, sequence: Sequence, storage: str) -> None:
    keyframes, queries, ground_truth = _parts(sequence)
    contents = write_bag(
        tmp_path / "bag", keyframes, queries, ground_truth, storage=storage, map_path=tmp_path / "m.db"
    )

    assert contents.counts == {
        topics.CLOCK_TOPIC: 8, topics.KEYFRAMES_TOPIC: 2, topics.GROUND_TRUTH_TOPIC: 8,
        topics.CAMERA_INFO_TOPIC: 6, topics.IMAGE_TOPIC: 6,
    }  # fmt: skip
    with BagReader(tmp_path / "bag") as reader:
        assert reader.topics == {
            "/clock": "rosgraph_msgs/msg/Clock", "/keyframes": "loftr_ros/msg/Keyframe",
            "/ground_truth/pose": "geometry_msgs/msg/PoseStamped",
            "/camera_info": "sensor_msgs/msg/CameraInfo",
            "/image": "sensor_msgs/msg/Image",
        }  # fmt: skip
        back = read_keyframes(reader)
        assert [k.id for k in back] == ["kf0", "kf4"]
        for kf, got in zip(keyframes, back, strict=True):
            assert got.stamp_ns == kf.stamp_ns and got.frame_id == "map"
            np.testing.assert_array_equal(got.image, kf.image)
            np.testing.assert_array_equal(got.depth, kf.depth)  # 32FC1: lossless
            assert got.intrinsics.K.tolist() == kf.intrinsics.K.tolist()
            np.testing.assert_allclose(got.T_map_camera, kf.T_map_camera, atol=1e-12)
        frames = list(query_frames(reader))
        assert [f.stamp_ns for f in frames] == [q.stamp_ns for q in queries]
        gt = dict(ground_truth)
        for query, frame in zip(queries, frames, strict=True):
            np.testing.assert_array_equal(frame.image, query.image)
            assert frame.intrinsics.K.tolist() == query.intrinsics.K.tolist()
            np.testing.assert_allclose(frame.T_map_camera_gt, gt[query.stamp_ns], atol=1e-12)
        stamps, poses = read_ground_truth(reader)
        assert stamps.tolist() == [s for s, _ in ground_truth]
        np.testing.assert_allclose(poses, np.stack([T for _, T in ground_truth]), atol=1e-12)
        messages = list(reader.messages())
        assert [m.stamp_ns for m in messages] == sorted(m.stamp_ns for m in messages)
        assert messages[0].topic == topics.CLOCK_TOPIC and messages[1].topic == topics.KEYFRAMES_TOPIC
        clocks = [m.decode().clock for m in messages if m.topic == topics.CLOCK_TOPIC]
        assert [c.sec * 10**9 + c.nanosec for c in clocks] == [START_NS + i * PERIOD_NS for i in range(8)]
        for m in messages:  # record time is the header stamp, but for the keyframes (all at the start)
            if m.topic in (topics.IMAGE_TOPIC, topics.CAMERA_INFO_TOPIC, topics.GROUND_TRUTH_TOPIC):
                stamp = m.decode().header.stamp
                assert stamp.sec * 10**9 + stamp.nanosec == m.stamp_ns
    # the map holds the same keyframes
    with KeyframeStore(tmp_path / "m.db", create=False, readonly=True) as store:
        assert sorted(store.ids()) == ["kf0", "kf4"]
        np.testing.assert_array_equal(store.get("kf4").image, keyframes[1].image)
        np.testing.assert_array_equal(store.get("kf4").depth, keyframes[1].depth)
    # a standard reader (rosbags' own deserializer) reads every message: the bag is a valid rosbag2 bag
    with AnyReader([tmp_path / "bag"], default_typestore=typestore()) as anyreader:
        decoded = [anyreader.deserialize(raw, c.msgtype) for c, _, raw in anyreader.messages()]
    assert len(decoded) == sum(contents.counts.values())
    assert decoded[1].id == "kf0"
    assert (tmp_path / "bag" / "metadata.yaml").read_text().count(f"storage_identifier: {storage}") == 1


def test_same_seed_same_bag(tmp_path: Path) -> None:
    for name in ("a", "b"):
        synthetic_bag(tmp_path / name, 2, 4, keyframe_every=2, width=64, height=48, storage="mcap")
    with BagReader(tmp_path / "a") as a, BagReader(tmp_path / "b") as b:
        # compared decoded: rclpy's CDR leaves alignment padding bytes uninitialised, so bytes may differ
        decoded_a = [(m.topic, m.stamp_ns, m.decode()) for m in a.messages()]
        decoded_b = [(m.topic, m.stamp_ns, m.decode()) for m in b.messages()]
    assert len(decoded_a) == 4 + 2 + 4 + 2 + 2
    assert decoded_a == decoded_b


def test_writer_and_reader_refuse_with_a_message_naming_the_bag(tmp_path: Path) -> None:
    (tmp_path / "exists").mkdir()
    with pytest.raises(BagError, match=r"exists; delete it"):
        BagWriter(tmp_path / "exists")
    with pytest.raises(BagError, match="unknown bag storage 'zip'"):
        BagWriter(tmp_path / "new", storage="zip")
    with pytest.raises(BagError, match=r"nope does not exist"):
        BagReader(tmp_path / "nope")
    with pytest.raises(BagError, match=r"not a readable rosbag2 bag"):
        BagReader(tmp_path / "exists")
    write_bag(tmp_path / "poses", [], [], [(START_NS, np.eye(4))])
    with (
        BagReader(tmp_path / "poses") as reader,
        pytest.raises(BagError, match=r"has no topic\(s\) /camera_info, /image \(it has: /clock"),
    ):
        list(query_frames(reader))
