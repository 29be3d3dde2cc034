"""Keyframes from a rosbag2 bag: images paired with interpolated poses, the latest camera_info and depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import Writer
from rosbags.typesys import Stores, get_typestore

from loftr_ros.bags.map_import import import_rosbag
from loftr_ros.errors import BagError, MapError
from loftr_ros.localization.store import KeyframeStore

TS = get_typestore(Stores.ROS2_KILTED)  # rosbags' own types: the bags below are written without rclpy


def _header(t: int, frame: str) -> object:
    return TS.types["std_msgs/msg/Header"](
        stamp=TS.types["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9), frame_id=frame
    )


def _camera_info(t: int) -> object:
    Info, Roi = TS.types["sensor_msgs/msg/CameraInfo"], TS.types["sensor_msgs/msg/RegionOfInterest"]
    return Info(header=_header(t, "cam"), height=6, width=8, distortion_model="plumb_bob", d=np.zeros(5),
                k=np.array([10.0, 0, 3.5, 0, 10.0, 2.5, 0, 0, 1]), r=np.eye(3).reshape(-1), p=np.zeros(12),
                binning_x=0, binning_y=0,
                roi=Roi(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))  # fmt: skip



def test_import_rosbag_pairs_images_with_poses_and_depth(tmp_path: Path) -> None:
    ts, header = TS, _header
    Image, Info = ts.types["sensor_msgs/msg/Image"], ts.types["sensor_msgs/msg/CameraInfo"]
    PoseStamped, Pose = ts.types["geometry_msgs/msg/PoseStamped"], ts.types["geometry_msgs/msg/Pose"]
    Point, Quat = ts.types["geometry_msgs/msg/Point"], ts.types["geometry_msgs/msg/Quaternion"]

    rng = np.random.default_rng(0)
    images = {}
    bag = tmp_path / "bag"
    with Writer(bag, version=9) as writer:
        c_img = writer.add_connection("/cam/image", Image.__msgtype__, typestore=ts)
        c_info = writer.add_connection("/cam/info", Info.__msgtype__, typestore=ts)
        c_pose = writer.add_connection("/pose", PoseStamped.__msgtype__, typestore=ts)
        c_depth = writer.add_connection("/cam/depth", Image.__msgtype__, typestore=ts)
        for i in range(12):  # poses at 10 Hz from t = 1 s
            t = 10**9 + i * 10**8
            msg = PoseStamped(
                header=header(t, "world"),
                pose=Pose(position=Point(x=i * 0.1, y=0.0, z=0.0), orientation=Quat(x=0.0, y=0.0, z=0.0, w=1.0)),
            )
            writer.write(c_pose, t, ts.serialize_cdr(msg, msg.__msgtype__))
        for i in range(5):  # images at 5 Hz from t = 0.95 s: the first has no pose yet
            t = 950_000_000 + i * 2 * 10**8
            rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            images[t] = rgb
            bgr = rgb[:, :, ::-1].copy()
            msg = Image(
                header=header(t, "cam"),
                height=6,
                width=8,
                encoding="bgr8",
                is_bigendian=0,
                step=24,
                data=bgr.reshape(-1),
            )
            writer.write(c_img, t, ts.serialize_cdr(msg, msg.__msgtype__))
            mm = np.full((6, 8), 1234, np.uint16)
            dmsg = Image(
                header=header(t + 3_000_000, "cam"),
                height=6,
                width=8,
                encoding="16UC1",
                is_bigendian=0,
                step=16,
                data=mm.view(np.uint8).reshape(-1),
            )
            writer.write(c_depth, t + 3_000_000, ts.serialize_cdr(dmsg, dmsg.__msgtype__))
            writer.write(c_info, t, ts.serialize_cdr(_camera_info(t), Info.__msgtype__))
    with KeyframeStore(tmp_path / "m.db") as store:
        count = import_rosbag(store, bag, "/cam/image", "/cam/info", "/pose", "/cam/depth")
        assert count == 4
        t = 950_000_000 + 2 * 10**8  # 1.15 s: halfway between the poses at 1.1 s and 1.2 s
        kf = store.get(str(t))
        np.testing.assert_array_equal(kf.image, images[t])
        assert kf.T_map_camera[0, 3] == pytest.approx(0.15) and kf.frame_id == "world"
        assert kf.intrinsics.fx == 10.0 and kf.intrinsics.cx == 3.5
        assert kf.depth[0, 0] == pytest.approx(1.234)
        with pytest.raises(BagError, match="no topic"):
            import_rosbag(store, bag, "/nope", "/cam/info", "/pose")


def test_import_rosbag_takes_poses_from_tf_and_tf_static(tmp_path: Path) -> None:
    from scipy.spatial.transform import Rotation

    from loftr_ros.transforms import make_transform, pose_from_tq

    ts, header = TS, _header
    Image, Info = ts.types["sensor_msgs/msg/Image"], ts.types["sensor_msgs/msg/CameraInfo"]
    TF, Stamped = ts.types["tf2_msgs/msg/TFMessage"], ts.types["geometry_msgs/msg/TransformStamped"]
    Transform, Vector3 = ts.types["geometry_msgs/msg/Transform"], ts.types["geometry_msgs/msg/Vector3"]
    Quat = ts.types["geometry_msgs/msg/Quaternion"]

    def stamped(t: int, parent: str, child: str, T: np.ndarray) -> object:
        q = Rotation.from_matrix(T[:3, :3]).as_quat()
        transform = Transform(translation=Vector3(x=T[0, 3], y=T[1, 3], z=T[2, 3]),
                              rotation=Quat(x=q[0], y=q[1], z=q[2], w=q[3]))  # fmt: skip
        return Stamped(header=header(t, parent), child_frame_id=child, transform=transform)

    def T_map_base(t: int) -> np.ndarray:  # driving along x, turning slowly
        seconds = (t - 10**9) / 1e9
        return make_transform(Rotation.from_euler("z", 10 * seconds, degrees=True).as_matrix(),
                              np.array([0.5 * seconds, 0.0, 0.0]))  # fmt: skip

    T_base_camera = pose_from_tq([0.2, 0.0, 0.5], [-0.5, 0.5, -0.5, 0.5])  # a forward-looking optical frame
    bag = tmp_path / "bag"
    with Writer(bag, version=9) as writer:
        c_tf = writer.add_connection("/tf", TF.__msgtype__, typestore=ts)
        c_static = writer.add_connection("/tf_static", TF.__msgtype__, typestore=ts)
        c_img = writer.add_connection("/cam/image", Image.__msgtype__, typestore=ts)
        c_info = writer.add_connection("/cam/info", Info.__msgtype__, typestore=ts)
        static = TF(transforms=[stamped(10**9, "base_link", "camera_optical", T_base_camera)])
        writer.write(c_static, 10**9, ts.serialize_cdr(static, TF.__msgtype__))
        for i in range(41):  # odometry-like /tf at 20 Hz for 2 s
            t = 10**9 + i * 50_000_000
            msg = TF(transforms=[stamped(t, "map", "base_link", T_map_base(t))])
            writer.write(c_tf, t, ts.serialize_cdr(msg, TF.__msgtype__))
        for i in range(4):  # images at 2 Hz
            t = 1_125_000_000 + i * 500_000_000
            image = Image(header=header(t, "camera_optical"), height=6, width=8, encoding="rgb8", is_bigendian=0,
                          step=24, data=np.full(6 * 8 * 3, i, np.uint8))  # fmt: skip
            writer.write(c_img, t, ts.serialize_cdr(image, Image.__msgtype__))
            writer.write(c_info, t, ts.serialize_cdr(_camera_info(t), Info.__msgtype__))
    with KeyframeStore(tmp_path / "m.db") as store:
        count = import_rosbag(store, bag, "/cam/image", "/cam/info", None, tf_frames=("map", "camera_optical"))
        assert count == 4
        for info in store.list():
            expected = T_map_base(info.stamp_ns) @ T_base_camera
            np.testing.assert_allclose(info.T_map_camera, expected, atol=1e-5)  # interpolated between /tf stamps
            assert info.frame_id == "map"
        with pytest.raises(MapError, match="no transform chain from 'map' to 'gripper'"):
            import_rosbag(store, bag, "/cam/image", "/cam/info", None, tf_frames=("map", "gripper"))
