"""The keyframe map: one SQLite file (WAL journal, one transaction per write) that survives a killed writer.

Layout (schema version :data:`SCHEMA_VERSION`, ``PRAGMA application_id`` = :data:`APPLICATION_ID`):

- ``keyframes``: id, stamp, map frame, ``T_map_camera`` (16 float64, row-major), the camera position and
  viewing direction in the map (for nearest-by-pose), intrinsics and an optional float32 global
  descriptor: small rows, so listing a map never walks over image pages.
- ``pixels``: per keyframe, the image as PNG (lossless, RGB stored in PNG's BGR order) and optional depth
  as zlib-compressed little-endian float32 metres (lossless, NaN kept, no pickle).
- ``features``: kept in the schema for maps written by earlier versions, and emptied with its keyframe;
  nothing writes it now (no matcher serialises its features: they live in the localizer's memory cache).
- ``meta``: key/value text (creator; ``descriptor_source``, who computed the descriptors, so that a
  localizer describing images differently recomputes them instead of comparing unlike vectors).

Listing returns :class:`KeyframeInfo` (metadata only); images and depth decode in :meth:`KeyframeStore.get`,
so opening a large map costs one small query.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from loftr_ros.errors import MapError
from loftr_ros.localization.config import StoreConfig
from loftr_ros.localization.types import CameraIntrinsics, Keyframe

logger = logging.getLogger("loftr_ros.localization")

APPLICATION_ID = 0x4C465452  # "LFTR": marks a SQLite file as a loftr_ros map
MAX_ID_BYTES = 256  # a keyframe id longer than this is a mistake (or an attack on memory and logs)
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keyframes (
    id TEXT PRIMARY KEY,
    stamp_ns INTEGER NOT NULL,
    frame_id TEXT NOT NULL,
    pose BLOB NOT NULL,
    px REAL NOT NULL, py REAL NOT NULL, pz REAL NOT NULL,
    dx REAL NOT NULL, dy REAL NOT NULL, dz REAL NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL,
    fx REAL NOT NULL, fy REAL NOT NULL, cx REAL NOT NULL, cy REAL NOT NULL,
    distortion_model TEXT NOT NULL, distortion TEXT NOT NULL,
    has_depth INTEGER NOT NULL,
    descriptor BLOB
);
CREATE INDEX IF NOT EXISTS keyframes_px ON keyframes (px);
CREATE TABLE IF NOT EXISTS pixels (
    keyframe_id TEXT PRIMARY KEY REFERENCES keyframes (id) ON DELETE CASCADE,
    channels INTEGER NOT NULL,
    image_png BLOB NOT NULL,
    depth_f32z BLOB
);
CREATE TABLE IF NOT EXISTS features (
    keyframe_id TEXT NOT NULL REFERENCES keyframes (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    name TEXT NOT NULL,
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (keyframe_id, fingerprint, name)
);
"""

_INFO_COLUMNS = (
    "id, stamp_ns, frame_id, pose, width, height, fx, fy, cx, cy, distortion_model, distortion, has_depth, descriptor"
)
_ALLOWED_FEATURE_DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8", "bool")


@dataclass(frozen=True)
class KeyframeInfo:
    """A keyframe's metadata without its pixels (what listing a map returns)."""

    id: str
    stamp_ns: int
    frame_id: str
    T_map_camera: np.ndarray  # (4, 4) float64
    intrinsics: CameraIntrinsics
    has_depth: bool
    descriptor: np.ndarray | None  # (D,) float32


def encode_image(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (H, W) or (H, W, 3) RGB image (lossless)."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        msg = f"keyframe image must be uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}"
        raise MapError(msg)
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise MapError("could not encode a keyframe image as PNG")
    return buf.tobytes()


def decode_image(data: bytes, channels: int) -> np.ndarray:
    """Inverse of :func:`encode_image`."""
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if image is None:
        raise MapError("a keyframe image in the map is not a valid PNG")
    return image if channels == 1 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def encode_depth(depth: np.ndarray) -> bytes:
    """zlib-compressed little-endian float32 metres (lossless; NaN kept)."""
    return zlib.compress(np.ascontiguousarray(depth, dtype="<f4").tobytes(), 1)


def decode_depth(data: bytes, height: int, width: int) -> np.ndarray:
    raw = zlib.decompress(data)
    return np.frombuffer(raw, dtype="<f4").reshape(height, width).astype(np.float32)


def _pose_blob(T: np.ndarray) -> bytes:
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        msg = f"T_map_camera must be a finite (4, 4) matrix, got shape {T.shape}"
        raise MapError(msg)
    return np.ascontiguousarray(T, dtype="<f8").tobytes()


def _descriptor_blob(descriptor: np.ndarray | None) -> bytes | None:
    if descriptor is None:
        return None
    return np.ascontiguousarray(np.asarray(descriptor).reshape(-1), dtype="<f4").tobytes()


class KeyframeStore:
    """A keyframe map in one SQLite file; use as a context manager or call :meth:`close`.

    Args:
        path: the map file; created when ``create`` is true and it does not exist.
        config: how the database is opened.
        create: create an empty map when the file is missing (otherwise :class:`MapError`).
        readonly: open without write access (several readers may share a map with one writer).

    Raises:
        MapError: the file is missing, not a loftr_ros map, or written by a newer schema; the message
            names the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: StoreConfig | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly  # opened without write access: writes raise MapError
        self.config = config or StoreConfig()
        self.config.validate()
        exists = self.path.exists()
        if not exists and (readonly or not create):
            msg = f"map file {self.path} does not exist"
            raise MapError(msg)
        if exists and self.path.is_file() and self.path.stat().st_size == 0:
            msg = f"map file {self.path} is empty (0 bytes), not a loftr_ros map; delete it to start a new map"
            raise MapError(msg)
        if exists:
            self.check_file(self.path)  # read-only: a file that fails is left exactly as it was
        try:
            if readonly:
                uri = f"file:{self.path.resolve()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(self.config.busy_timeout_ms)}")
            app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            msg = f"{self.path} is not a loftr_ros map (SQLite says: {error})"
            raise MapError(msg) from None
        try:
            if app_id == 0 and version == 0 and not readonly and self._is_empty():
                self._initialise()
            elif app_id != APPLICATION_ID:
                msg = f"{self.path} is not a loftr_ros map (application_id {app_id:#x}, expected {APPLICATION_ID:#x})"
                raise MapError(msg)
            elif version > SCHEMA_VERSION:
                msg = (
                    f"{self.path} has map schema version {version}, newer than this loftr_ros "
                    f"supports ({SCHEMA_VERSION}); update loftr_ros to open it"
                )
                raise MapError(msg)
            if not readonly:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(f"PRAGMA synchronous = {self.config.synchronous}")
            self._db.execute("PRAGMA foreign_keys = ON")
        except MapError:
            self._db.close()
            raise
        except sqlite3.DatabaseError as error:
            self._db.close()
            msg = f"{self.path} could not be opened as a loftr_ros map: {error}"
            raise MapError(msg) from None
        logger.debug("opened map %s (%d keyframes)", self.path, len(self))

    @staticmethod
    def check_file(path: str | os.PathLike[str]) -> None:
        """Raise MapError naming ``path`` unless it is a readable loftr_ros map: marked as one (or a blank
        SQLite file), its tables present, SQLite's integrity check passing. Opened read-only, never changed."""
        path = Path(path)
        try:
            db = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise MapError(f"{path} cannot be opened: {error}") from None
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if app_id == 0 and not tables:
                return  # a blank SQLite file: it becomes a new map
            if app_id != APPLICATION_ID:
                expected = f"expected {APPLICATION_ID:#x}"
                raise MapError(f"{path} is not a loftr_ros map (application_id {app_id:#x}, {expected})")
            missing = {"meta", "keyframes", "pixels"} - tables
            if missing:
                raise MapError(f"{path} is a damaged loftr_ros map: tables {sorted(missing)} are missing")
            problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise MapError(f"{path} is a damaged loftr_ros map: {'; '.join(problems)}")
        except sqlite3.Error as error:
            raise MapError(f"{path} is not a loftr_ros map or is damaged (SQLite says: {error})") from None
        finally:
            db.close()

    @staticmethod
    def is_map_file(path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is a SQLite file marked as a loftr_ros map: read from its header, never opened."""
        try:
            with open(path, "rb") as f:
                header = f.read(100)
        except OSError:
            return False
        return header[:16] == b"SQLite format 3\x00" and int.from_bytes(header[68:72], "big") == APPLICATION_ID

    def _is_empty(self) -> bool:
        return self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0

    def _initialise(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('creator', 'loftr_ros')")
            self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # -- context management -------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> KeyframeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    class _Tx:
        def __init__(self, db: sqlite3.Connection, path: Path) -> None:
            self.db, self.path = db, path

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            if exc_type is None:
                self.db.execute("COMMIT")
            else:
                self.db.execute("ROLLBACK")

    def _transaction(self) -> KeyframeStore._Tx:
        return KeyframeStore._Tx(self._db, self.path)

    def _run(self, fn, *args):
        """Run a write in one transaction, translating SQLite's errors to MapError naming the file."""
        try:
            with self._transaction() as db:
                return fn(db, *args)
        except sqlite3.Error as error:
            msg = f"could not write map {self.path}: {error}"
            raise MapError(msg) from None

    # -- writing --------------------------------------------------------------------------------------

    @staticmethod
    def _rows(kf: Keyframe) -> tuple[tuple, tuple]:
        T = np.asarray(kf.T_map_camera, dtype=np.float64)
        blob = _pose_blob(T)
        K = kf.intrinsics
        if kf.image.shape[:2] != (K.height, K.width):
            msg = f"keyframe {kf.id}: image is {kf.image.shape[:2]} but intrinsics say {(K.height, K.width)}"
            raise MapError(msg)
        depth = None
        if kf.depth is not None:
            if kf.depth.shape != (K.height, K.width):
                msg = f"keyframe {kf.id}: depth is {kf.depth.shape}, image is {(K.height, K.width)}"
                raise MapError(msg)
            depth = encode_depth(kf.depth)
        meta = (
            kf.id, int(kf.stamp_ns), kf.frame_id, blob,
            *T[:3, 3].tolist(), *T[:3, 2].tolist(),
            K.width, K.height, K.fx, K.fy, K.cx, K.cy, K.distortion_model, json.dumps(list(K.distortion)),
            int(depth is not None), _descriptor_blob(kf.descriptor),
        )  # fmt: skip
        return meta, (kf.id, 1 if kf.image.ndim == 2 else 3, encode_image(kf.image), depth)

    def add(self, keyframe: Keyframe, *, replace: bool = False) -> None:
        """Insert a keyframe in one transaction; with ``replace`` an existing id is overwritten.

        Raises:
            MapError: the id exists (without ``replace``) or the keyframe is malformed.
        """
        if not keyframe.id or len(keyframe.id.encode()) > MAX_ID_BYTES:
            raise MapError(f"keyframe ids must be 1 to {MAX_ID_BYTES} bytes, got {len(keyframe.id.encode())}")
        meta, pixels = self._rows(keyframe)

        def write(db: sqlite3.Connection) -> None:
            if replace:  # drops the old pixels and the features of the old image (cascade)
                db.execute("DELETE FROM keyframes WHERE id = ?", (keyframe.id,))
            db.execute(f"INSERT INTO keyframes VALUES ({', '.join('?' * len(meta))})", meta)
            db.execute("INSERT INTO pixels VALUES (?, ?, ?, ?)", pixels)

        try:
            self._run(write)
        except MapError as error:
            if "UNIQUE" in str(error):
                msg = f"map {self.path} already has a keyframe {keyframe.id!r}; pass replace=True to overwrite"
                raise MapError(msg) from None
            raise

    def update(
        self,
        keyframe_id: str,
        *,
        T_map_camera: np.ndarray | None = None,
        descriptor: np.ndarray | None = None,
        stamp_ns: int | None = None,
    ) -> None:
        """Change a keyframe's pose, descriptor or stamp without rewriting its pixels (e.g. after a map
        optimisation). Raises MapError when the id is unknown."""

        def write(db: sqlite3.Connection) -> None:
            if not db.execute("SELECT 1 FROM keyframes WHERE id = ?", (keyframe_id,)).fetchone():
                msg = f"map {self.path} has no keyframe {keyframe_id!r}"
                raise MapError(msg)
            if T_map_camera is not None:
                T = np.asarray(T_map_camera, dtype=np.float64)
                db.execute(
                    "UPDATE keyframes SET pose=?, px=?, py=?, pz=?, dx=?, dy=?, dz=? WHERE id=?",
                    (_pose_blob(T), *T[:3, 3].tolist(), *T[:3, 2].tolist(), keyframe_id),
                )
            if descriptor is not None:
                db.execute(
                    "UPDATE keyframes SET descriptor=? WHERE id=?",
                    (_descriptor_blob(descriptor), keyframe_id),
                )
            if stamp_ns is not None:
                db.execute("UPDATE keyframes SET stamp_ns=? WHERE id=?", (int(stamp_ns), keyframe_id))

        self._run(write)

    def remove(self, keyframe_id: str) -> bool:
        """Delete a keyframe and its cached features; returns whether it existed."""
        return bool(self._run(lambda db: db.execute("DELETE FROM keyframes WHERE id = ?", (keyframe_id,)).rowcount))

    def clear(self) -> int:
        """Delete every keyframe and cached feature in one transaction; returns how many keyframes."""
        return int(self._run(lambda db: db.execute("DELETE FROM keyframes").rowcount))

    # -- reading --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM keyframes").fetchone()[0])

    def __contains__(self, keyframe_id: object) -> bool:
        return self._db.execute("SELECT 1 FROM keyframes WHERE id = ?", (keyframe_id,)).fetchone() is not None

    @staticmethod
    def _info(row: tuple) -> KeyframeInfo:
        kid, stamp, frame, pose, w, h, fx, fy, cx, cy, dmodel, dist, has_depth, desc = row
        return KeyframeInfo(
            id=kid,
            stamp_ns=int(stamp),
            frame_id=frame,
            T_map_camera=np.frombuffer(pose, dtype="<f8").reshape(4, 4).astype(np.float64),
            intrinsics=CameraIntrinsics(w, h, fx, fy, cx, cy, dmodel, tuple(json.loads(dist))),
            has_depth=bool(has_depth),
            descriptor=None if desc is None else np.frombuffer(desc, dtype="<f4").astype(np.float32),
        )

    def list(self) -> list[KeyframeInfo]:
        """Metadata of every keyframe, ordered by stamp (no pixels are read)."""
        rows = self._db.execute(f"SELECT {_INFO_COLUMNS} FROM keyframes ORDER BY stamp_ns, id").fetchall()
        return [self._info(r) for r in rows]

    def ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM keyframes ORDER BY stamp_ns, id")]

    def info(self, keyframe_id: str) -> KeyframeInfo:
        row = self._db.execute(f"SELECT {_INFO_COLUMNS} FROM keyframes WHERE id = ?", (keyframe_id,)).fetchone()
        if row is None:
            msg = f"map {self.path} has no keyframe {keyframe_id!r}"
            raise MapError(msg)
        return self._info(row)

    def get(self, keyframe_id: str) -> Keyframe:
        """The full keyframe, with its image (and depth) decoded now."""
        info = self.info(keyframe_id)
        row = self._db.execute(
            "SELECT channels, image_png, depth_f32z FROM pixels WHERE keyframe_id = ?", (keyframe_id,)
        ).fetchone()
        if row is None:
            msg = f"map {self.path}: keyframe {keyframe_id!r} has no pixels"
            raise MapError(msg)
        channels, image_png, depth_blob = row
        K = info.intrinsics
        try:
            image = decode_image(image_png, channels)
            depth = None if depth_blob is None else decode_depth(depth_blob, K.height, K.width)
        except (MapError, zlib.error, ValueError) as error:
            msg = f"map {self.path}: keyframe {keyframe_id!r} is corrupt ({error})"
            raise MapError(msg) from None
        return Keyframe(
            id=info.id, stamp_ns=info.stamp_ns, frame_id=info.frame_id, image=image, intrinsics=K,
            T_map_camera=info.T_map_camera, depth=depth, descriptor=info.descriptor,
        )  # fmt: skip

    def __iter__(self) -> Iterator[Keyframe]:
        """Every keyframe with pixels, one decoded at a time."""
        for kid in self.ids():
            yield self.get(kid)

    def nearest(
        self,
        T_map_camera: np.ndarray,
        k: int = 1,
        *,
        max_distance_m: float | None = None,
        max_angle_deg: float | None = None,
    ) -> list[tuple[KeyframeInfo, float]]:
        """Keyframes closest in position to a pose, with their distance in metres, nearest first.

        ``max_angle_deg`` drops keyframes whose optical axis differs from the pose's by more than that.
        """
        T = np.asarray(T_map_camera, dtype=np.float64)
        p = T[:3, 3]
        sql = "SELECT id, px, py, pz, dx, dy, dz FROM keyframes"
        params: tuple = ()
        if max_distance_m is not None:  # the px index narrows the scan to a slab
            sql += " WHERE px BETWEEN ? AND ?"
            params = (p[0] - max_distance_m, p[0] + max_distance_m)
        rows = self._db.execute(sql, params).fetchall()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        arr = np.array([r[1:] for r in rows], dtype=np.float64)
        dist = np.linalg.norm(arr[:, :3] - p, axis=1)
        keep = np.ones(len(ids), dtype=bool)
        if max_distance_m is not None:
            keep &= dist <= max_distance_m
        if max_angle_deg is not None:
            keep &= arr[:, 3:] @ T[:3, 2] >= np.cos(np.deg2rad(max_angle_deg))
        order = [i for i in np.argsort(dist, kind="stable") if keep[i]][:k]
        return [(self.info(ids[i]), float(dist[i])) for i in order]

    def descriptors(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Ids with a descriptor, their (N, D) float32 descriptors and (N, 4, 4) poses (for retrieval)."""
        rows = self._db.execute(
            "SELECT id, descriptor, pose FROM keyframes WHERE descriptor IS NOT NULL ORDER BY stamp_ns, id"
        ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), np.float32), np.zeros((0, 4, 4))
        desc = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float32)
        poses = np.stack([np.frombuffer(r[2], dtype="<f8").reshape(4, 4) for r in rows]).astype(np.float64)
        return [r[0] for r in rows], desc, poses

    def backup(self, path: str | os.PathLike[str]) -> None:
        """A consistent copy of the whole map (features included) to a new file, while others may write."""
        try:
            target = sqlite3.connect(path)
            with target:
                self._db.backup(target)
            target.close()
        except sqlite3.Error as error:
            msg = f"could not copy map {self.path} to {path}: {error}"
            raise MapError(msg) from None

    def index_data(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Everything a retrieval index needs, in one query and without per-row objects: ids, (N, D)
        float32 descriptors (zero rows where missing), (N,) bool has-descriptor, (N, 4, 4) poses."""
        rows = self._db.execute("SELECT id, descriptor, pose FROM keyframes ORDER BY stamp_ns, id").fetchall()
        n = len(rows)
        if n == 0:
            return [], np.zeros((0, 0), np.float32), np.zeros(0, bool), np.zeros((0, 4, 4))
        ids = [r[0] for r in rows]
        poses = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f8").reshape(n, 4, 4).astype(np.float64)
        has = np.array([r[1] is not None for r in rows], dtype=bool)
        dims = {len(r[1]) // 4 for r in rows if r[1] is not None}
        if len(dims) > 1:
            msg = f"map {self.path} mixes descriptor sizes {sorted(dims)}; recompute the descriptors"
            raise MapError(msg)
        dim = dims.pop() if dims else 0
        desc = np.zeros((n, dim), np.float32)
        if dim:
            desc[has] = np.frombuffer(b"".join(r[1] for r in rows if r[1] is not None), dtype="<f4").reshape(-1, dim)
        return ids, desc, has, poses

    @property
    def descriptor_source(self) -> str:
        """Who computed the stored descriptors ("" when unknown: a map written before it was recorded)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'descriptor_source'").fetchone()
        return row[0] if row else ""

    def replace_descriptors(self, descriptors: dict[str, np.ndarray], source: str) -> None:
        """Write many keyframes' descriptors and who computed them in one transaction: a crash at any point
        leaves the old descriptors or all the new ones, never a mix of sizes."""

        def write(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE keyframes SET descriptor=? WHERE id=?",
                [(_descriptor_blob(d), keyframe_id) for keyframe_id, d in descriptors.items()],
            )
            if source:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('descriptor_source', ?)", (source,))

        self._run(write)

    def set_descriptor_source(self, source: str) -> None:
        self._run(lambda db: db.execute("INSERT OR REPLACE INTO meta VALUES ('descriptor_source', ?)", (source,)))
