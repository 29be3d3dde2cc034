"""Import keyframes into a map from a folder, and export a map back to a folder (rosbags:
:mod:`loftr_ros.bags.map_import`).

Folder forms:

1. **TUM RGB-D** (:func:`import_tum`): ``rgb/<stamp>.png``, optional ``depth/<stamp>.png`` (16-bit,
   ``depth_scale`` units per metre, 5000 for TUM; 0 = unknown) and ``groundtruth.txt`` with lines
   ``timestamp tx ty tz qx qy qz qw`` giving T_world_camera of the colour camera's optical centre. File
   names are stamps in seconds. Each image gets the ground truth interpolated at its stamp; images outside
   the ground truth's time span are skipped. Depth is paired by the nearest stamp within ``max_depth_dt``.
   Intrinsics come from the caller (TUM publishes them per sequence, not in the folder).

2. **Keyframe CSV** (:func:`import_csv`, written by :func:`export_folder`): a ``keyframes.csv`` with the
   header ``id,stamp_ns,frame_id,image,tx,ty,tz,qx,qy,qz,qw,width,height,fx,fy,cx,cy,distortion_model,
   distortion,depth,depth_scale,descriptor``, one keyframe per row:

   - ``image``: path (relative to the CSV) of an 8-bit PNG/JPEG, colour or grey.
   - ``tx .. qw``: T_map_camera of the optical frame (metres; quaternion x, y, z, w).
   - ``width .. cy``: pinhole intrinsics, pixel (0, 0) at the centre of the top-left pixel;
     ``distortion_model`` (may be empty) and ``distortion`` (space-separated coefficients, may be empty).
   - ``depth`` (optional, may be empty): ``.npy`` float32 metres (read with ``allow_pickle=False``) or a
     16-bit ``.png`` with ``depth_scale`` units per metre (default 1000, i.e. millimetres).
   - ``descriptor`` (optional): ``.npy`` float32 global descriptor.

   ``id``, ``stamp_ns`` and ``frame_id`` may be empty (then: the image's stem, the row number, "map").
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from loftr_ros.errors import MapError
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import CameraIntrinsics, Keyframe
from loftr_ros.transforms import interpolate_pose, matrix_to_quaternion, pose_from_tq

logger = logging.getLogger("loftr_ros.localization")

CSV_FIELDS = (
    "id", "stamp_ns", "frame_id", "image", "tx", "ty", "tz", "qx", "qy", "qz", "qw",
    "width", "height", "fx", "fy", "cx", "cy", "distortion_model", "distortion", "depth", "depth_scale",
    "descriptor",
)  # fmt: skip

Describe = Callable[[np.ndarray], np.ndarray]


def seconds_to_ns(text: str) -> int:
    """Exact integer nanoseconds of a decimal seconds string such as ``1341847980.722988``."""
    whole, _, frac = text.strip().partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An 8-bit image file as uint8 RGB (H, W, 3) or grey (H, W)."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        msg = f"cannot read image {path}"
        raise MapError(msg)
    if image.dtype != np.uint8:
        msg = f"image {path} is {image.dtype}, expected 8-bit"
        raise MapError(msg)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


def read_depth(path: str | os.PathLike[str], depth_scale: float = 1000.0) -> np.ndarray:
    """Depth in float32 metres (0 = unknown) from a 16-bit PNG (``depth_scale`` units per metre) or a
    float32 ``.npy`` (metres; never unpickled)."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            depth = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            msg = f"cannot read depth {path}: {error}"
            raise MapError(msg) from None
        return np.asarray(depth, dtype=np.float32)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16 or raw.ndim != 2:
        msg = f"depth {path} must be a single-channel 16-bit PNG or a float32 .npy"
        raise MapError(msg)
    return raw.astype(np.float32) / np.float32(depth_scale)


class Trajectory:
    """Timestamped poses (T_world_camera) with interpolation, e.g. a TUM ``groundtruth.txt``."""

    def __init__(self, stamps_ns: np.ndarray, poses: np.ndarray) -> None:
        order = np.argsort(stamps_ns)
        self.stamps_ns = np.asarray(stamps_ns, dtype=np.int64)[order]
        self.poses = np.asarray(poses, dtype=np.float64)[order]

    @classmethod
    def read_tum(cls, path: str | os.PathLike[str]) -> Trajectory:
        """Read ``timestamp tx ty tz qx qy qz qw`` lines ('#' comments allowed)."""
        stamps, poses = [], []
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as error:
            msg = f"cannot read trajectory {path}: {error}"
            raise MapError(msg) from None
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.replace(",", " ").split()
            if len(parts) != 8:
                msg = f"{path}:{number}: expected 'timestamp tx ty tz qx qy qz qw', got {line!r}"
                raise MapError(msg)
            stamps.append(seconds_to_ns(parts[0]))
            values = [float(v) for v in parts[1:]]
            poses.append(pose_from_tq(values[:3], values[3:]))
        if not stamps:
            raise MapError(f"trajectory {path} has no poses")
        return cls(np.array(stamps), np.stack(poses))

    def at(self, stamp_ns: int, max_gap_ns: int = 100_000_000) -> np.ndarray | None:
        """Pose interpolated at a stamp; None outside the trajectory or across a gap longer than
        ``max_gap_ns`` (no extrapolation)."""
        s = self.stamps_ns
        i = int(np.searchsorted(s, stamp_ns))
        if i < len(s) and s[i] == stamp_ns:
            return self.poses[i].copy()
        if i == 0 or i == len(s) or s[i] - s[i - 1] > max_gap_ns:
            return None
        alpha = (stamp_ns - s[i - 1]) / (s[i] - s[i - 1])
        return interpolate_pose(self.poses[i - 1], self.poses[i], float(alpha))


def stamped_files(folder: str | os.PathLike[str], suffixes: Sequence[str] = (".png", ".jpg")) -> list[tuple[int, Path]]:
    """Files named ``<seconds>.<ext>`` in a folder, as (stamp_ns, path), sorted by stamp."""
    out = []
    for path in Path(folder).iterdir():
        if path.suffix.lower() in suffixes:
            try:
                out.append((seconds_to_ns(path.stem), path))
            except ValueError:
                logger.warning("skipping %s: its name is not a timestamp", path)
    return sorted(out)


def nearest_stamp(stamps_ns: np.ndarray, stamp_ns: int) -> int:
    """Index of the nearest stamp (stamps sorted)."""
    i = int(np.searchsorted(stamps_ns, stamp_ns))
    candidates = [j for j in (i - 1, i) if 0 <= j < len(stamps_ns)]
    return min(candidates, key=lambda j: abs(int(stamps_ns[j]) - stamp_ns))


def _describe(describe: Describe | None, image: np.ndarray) -> np.ndarray | None:
    return None if describe is None else np.asarray(describe(image), dtype=np.float32)


def tum_keyframes(
    rgb_dir: str | os.PathLike[str],
    groundtruth: str | os.PathLike[str],
    intrinsics: CameraIntrinsics,
    depth_dir: str | os.PathLike[str] | None = None,
    *,
    depth_scale: float = 5000.0,
    max_depth_dt_ns: int = 20_000_000,
    every: int = 1,
    limit: int | None = None,
    frame_id: str = "map",
) -> list[Keyframe]:
    """Keyframes of a TUM RGB-D folder (see the module docstring); frames without ground truth are skipped."""
    trajectory = Trajectory.read_tum(groundtruth)
    depth_files = stamped_files(depth_dir) if depth_dir is not None else []
    depth_stamps = np.array([s for s, _ in depth_files], dtype=np.int64)
    out: list[Keyframe] = []
    skipped = 0
    for stamp, path in stamped_files(rgb_dir)[::every]:
        T = trajectory.at(stamp)
        if T is None:
            skipped += 1
            continue
        depth = None
        if len(depth_stamps):
            j = nearest_stamp(depth_stamps, stamp)
            if abs(int(depth_stamps[j]) - stamp) <= max_depth_dt_ns:
                depth = read_depth(depth_files[j][1], depth_scale)
        image = read_image(path)
        out.append(Keyframe(path.stem, stamp, frame_id, image, intrinsics, T, depth))
        if limit is not None and len(out) >= limit:
            break
    if skipped:
        logger.info("skipped %d frame(s) outside the ground truth of %s", skipped, groundtruth)
    return out


def import_tum(store: KeyframeStore, rgb_dir: str | os.PathLike[str], groundtruth: str | os.PathLike[str],
               intrinsics: CameraIntrinsics, depth_dir: str | os.PathLike[str] | None = None, *,
               describe: Describe | None = None, **kwargs: object) -> int:  # fmt: skip
    """Add a TUM RGB-D folder's frames to a map; returns how many were added. See :func:`tum_keyframes`."""
    count = 0
    for kf in tum_keyframes(rgb_dir, groundtruth, intrinsics, depth_dir, **kwargs):  # type: ignore[arg-type]
        kf.descriptor = _describe(describe, kf.image)
        store.add(kf)
        count += 1
    logger.info("imported %d keyframes from %s into %s", count, rgb_dir, store.path)
    return count


def import_csv(store: KeyframeStore, csv_path: str | os.PathLike[str], *, describe: Describe | None = None) -> int:
    """Add the keyframes of a ``keyframes.csv`` (format in the module docstring); returns the count."""
    csv_path = Path(csv_path)
    root = csv_path.parent
    count = 0
    try:
        handle = csv_path.open(newline="")
    except OSError as error:
        msg = f"cannot read {csv_path}: {error}"
        raise MapError(msg) from None
    with handle:
        reader = csv.DictReader(handle)
        required = {
            "image",
            "tx",
            "ty",
            "tz",
            "qx",
            "qy",
            "qz",
            "qw",
            "width",
            "height",
            "fx",
            "fy",
            "cx",
            "cy",
        }
        missing = required - set(reader.fieldnames or ())
        if missing:
            msg = f"{csv_path} lacks the column(s) {', '.join(sorted(missing))}"
            raise MapError(msg)
        for number, row in enumerate(reader, 2):
            try:
                f = {k: float(row[k]) for k in ("tx", "ty", "tz", "qx", "qy", "qz", "qw", "fx", "fy", "cx", "cy")}
                dist = tuple(float(v) for v in (row.get("distortion") or "").split())
                K = CameraIntrinsics(int(row["width"]), int(row["height"]),
                                     f["fx"], f["fy"], f["cx"], f["cy"],
                                     row.get("distortion_model") or "", dist)  # fmt: skip
                T = pose_from_tq([f["tx"], f["ty"], f["tz"]], [f["qx"], f["qy"], f["qz"], f["qw"]])
                scale = float(row.get("depth_scale") or 1000.0)
                stamp = int(row.get("stamp_ns") or number - 2)
            except (ValueError, KeyError) as error:
                msg = f"{csv_path}:{number}: {error}"
                raise MapError(msg) from None
            image = read_image(root / row["image"])
            depth = read_depth(root / row["depth"], scale) if row.get("depth") else None
            desc = None
            if row.get("descriptor"):
                desc = np.load(root / row["descriptor"], allow_pickle=False).astype(np.float32)
            elif describe is not None:
                desc = _describe(describe, image)
            kid = row.get("id") or Path(row["image"]).stem
            store.add(Keyframe(kid, stamp, row.get("frame_id") or "map", image, K, T, depth, desc))
            count += 1
    logger.info("imported %d keyframes from %s into %s", count, csv_path, store.path)
    return count


def export_folder(store: KeyframeStore, folder: str | os.PathLike[str]) -> Path:
    """Write every keyframe as ``images/<id>.png``, ``depth/<id>.npy`` (float32 metres, lossless),
    ``descriptors/<id>.npy`` and one ``keyframes.csv``; returns the CSV's path.

    :func:`import_csv` reads it back."""
    folder = Path(folder)
    for sub in ("images", "depth", "descriptors"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    csv_path = folder / "keyframes.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for kf in store:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in kf.id)
            image_rel = f"images/{safe}.png"
            bgr = kf.image if kf.image.ndim == 2 else cv2.cvtColor(kf.image, cv2.COLOR_RGB2BGR)
            if not cv2.imwrite(str(folder / image_rel), bgr):
                raise MapError(f"cannot write {folder / image_rel}")
            depth_rel = desc_rel = ""
            if kf.depth is not None:
                depth_rel = f"depth/{safe}.npy"
                np.save(folder / depth_rel, kf.depth.astype(np.float32), allow_pickle=False)
            if kf.descriptor is not None:
                desc_rel = f"descriptors/{safe}.npy"
                np.save(folder / desc_rel, kf.descriptor.astype(np.float32), allow_pickle=False)
            T, K = kf.T_map_camera, kf.intrinsics
            q = matrix_to_quaternion(T[:3, :3])

            def num(x: float) -> str:
                return repr(float(x))  # shortest text that reads back to the same float64

            writer.writerow({
                "id": kf.id, "stamp_ns": kf.stamp_ns, "frame_id": kf.frame_id, "image": image_rel,
                "tx": num(T[0, 3]), "ty": num(T[1, 3]), "tz": num(T[2, 3]),
                "qx": num(q[0]), "qy": num(q[1]), "qz": num(q[2]), "qw": num(q[3]),
                "width": K.width, "height": K.height, "fx": num(K.fx), "fy": num(K.fy), "cx": num(K.cx),
                "cy": num(K.cy), "distortion_model": K.distortion_model,
                "distortion": " ".join(num(c) for c in K.distortion),
                "depth": depth_rel, "depth_scale": "", "descriptor": desc_rel,
            })  # fmt: skip
    logger.info("exported %d keyframes from %s to %s", len(store), store.path, folder)
    return csv_path


# -- the official TUM RGB-D download ----------------------------------------------------------------------

# Intrinsics per camera, from the dataset's page (fr1 and fr2 images are distorted: plumb_bob coefficients).
TUM_CAMERAS = {
    "fr1": CameraIntrinsics(640, 480, 517.3, 516.5, 318.6, 255.3, "plumb_bob",
                            (0.2624, -0.9531, -0.0054, 0.0026, 1.1633)),
    "fr2": CameraIntrinsics(640, 480, 520.9, 521.0, 325.1, 249.7, "plumb_bob",
                            (0.2312, -0.7849, -0.0033, -0.0001, 0.9172)),
    "fr3": CameraIntrinsics(640, 480, 535.4, 539.2, 320.1, 247.6),
}  # fmt: skip


def read_tum_list(path: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """``rgb.txt`` / ``depth.txt`` of the official download: ``timestamp filename`` lines, as (stamp_ns, path)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise MapError(f"cannot read {path}: {error}") from None
    out = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise MapError(f"{path}:{number}: expected 'timestamp filename', got {line!r}")
        out.append((seconds_to_ns(parts[0]), path.parent / parts[1]))
    return sorted(out)


def tum_camera_of(folder: str | os.PathLike[str]) -> str | None:
    """fr1/fr2/fr3 from an official sequence name such as ``rgbd_dataset_freiburg3_long_office_household``."""
    name = Path(folder).resolve().name
    for number in "123":
        if f"freiburg{number}" in name or f"fr{number}" in name:
            return f"fr{number}"
    return None


Stamped = list[tuple[int, Path]]


def official_tum_frames(folder: str | os.PathLike[str]) -> tuple[Stamped, Stamped, Trajectory]:
    """(colour frames, depth frames, ground truth) of a folder laid out as the official TUM RGB-D download."""
    folder = Path(folder)
    missing = [name for name in ("rgb.txt", "groundtruth.txt", "rgb") if not (folder / name).exists()]
    if missing:
        raise MapError(f"{folder} is not an official TUM RGB-D folder: {', '.join(missing)} missing")
    depth = read_tum_list(folder / "depth.txt") if (folder / "depth.txt").exists() else []
    return read_tum_list(folder / "rgb.txt"), depth, Trajectory.read_tum(folder / "groundtruth.txt")
