"""The keyframe map the localizer works against: a store or memory, its caches, descriptors and index.

A map is backed by a :class:`KeyframeStore` (keyframes decode lazily, every change is committed) or held
in memory. It keeps two LRU caches (decoded keyframes, the matcher's keyframe features), the retrieval
index, and the bookkeeping of who computed the stored descriptors: a store described by another source
has them recomputed (and rewritten unless it is read-only).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from loftr_ros.errors import LocalizationError, MapError
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.localization.retrieval import RetrievalIndex
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.types import Keyframe, Matcher

logger = logging.getLogger("loftr_ros.localization")


def as_numpy(x: Any, dtype: type = np.float32) -> np.ndarray:
    """A numpy array of a numpy array or a torch tensor (matchers may return either)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _keyframe_bytes(keyframe: Keyframe) -> int:
    return keyframe.image.nbytes + (0 if keyframe.depth is None else keyframe.depth.nbytes)


class KeyframeMap:
    """Keyframes, their features and descriptors, and the retrieval index over them."""

    def __init__(
        self, keyframes: KeyframeStore | Iterable[Keyframe], matcher: Matcher, config: LocalizerConfig
    ) -> None:
        self.matcher = matcher
        self.config = config
        self.descriptor_source = matcher.descriptor_source
        self.store: KeyframeStore | None = keyframes if isinstance(keyframes, KeyframeStore) else None
        self._memory: dict[str, Keyframe] = {}
        self._features: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # id -> (features, bytes)
        self._feature_bytes = 0
        self._decoded: OrderedDict[str, Keyframe] = OrderedDict()  # the store's keyframes, decoded
        self.index = RetrievalIndex(config.retrieval)
        if self.store is not None:
            self._open_store(self.store)
        else:
            for keyframe in keyframes:
                self.add(keyframe)

    def _open_store(self, store: KeyframeStore) -> None:
        ids, descriptors, has_descriptor, poses = store.index_data()
        source = self.descriptor_source
        other_source = bool(source) and store.descriptor_source != source
        if other_source and has_descriptor.any():
            logger.warning(
                "map %s: its descriptors come from %r, this localizer's from %r; recomputing them",
                store.path, store.descriptor_source or "an unrecorded source", source,
            )  # fmt: skip
            has_descriptor[:] = False
        self.index.build(ids, descriptors if has_descriptor.any() else None, poses, has_descriptor)
        missing = [i for i, has in zip(ids, has_descriptor, strict=True) if not has]
        computed = self._describe(store, missing)
        if (computed or other_source) and not store.readonly:
            store.replace_descriptors(computed, source if other_source or not store.descriptor_source else "")

    def _describe(self, store: KeyframeStore, keyframe_ids: list[str]) -> dict[str, np.ndarray]:
        """The descriptors a map lacks (imported, or from another source), added to the index; the caller
        writes them in one transaction, so a crash leaves the map as it was or fully converted."""
        if not keyframe_ids:
            return {}
        logger.info("computing %d keyframe descriptors of %s", len(keyframe_ids), store.path)
        computed = {}
        for keyframe_id in keyframe_ids:
            keyframe = store.get(keyframe_id)
            computed[keyframe_id] = as_numpy(self.matcher.describe(keyframe.image))
            self.index.add(keyframe_id, computed[keyframe_id], keyframe.T_map_camera)
        return computed

    def __len__(self) -> int:
        return len(self.index)

    @property
    def ids(self) -> list[str]:
        return self.index.ids

    def add(self, keyframe: Keyframe, *, replace: bool = False) -> None:
        """Add a keyframe (to the store too); its descriptor is computed when missing."""
        if keyframe.descriptor is None:
            keyframe.descriptor = as_numpy(self.matcher.describe(keyframe.image))
        if self.index.dim and np.size(keyframe.descriptor) != self.index.dim:
            size = np.size(keyframe.descriptor)
            msg = f"keyframe {keyframe.id!r}: descriptor has {size} dims, the map's have {self.index.dim}"
            raise LocalizationError(msg)
        if self.store is not None:
            self.store.add(keyframe, replace=replace)
        else:
            if keyframe.id in self._memory and not replace:
                raise LocalizationError(f"keyframe {keyframe.id!r} exists; pass replace=True to overwrite")
            self._memory[keyframe.id] = keyframe
        self._forget_features(keyframe.id)
        self._decoded.pop(keyframe.id, None)
        self.index.add(keyframe.id, keyframe.descriptor, keyframe.T_map_camera)

    def remove(self, keyframe_id: str) -> bool:
        self._forget_features(keyframe_id)
        self._decoded.pop(keyframe_id, None)
        self._memory.pop(keyframe_id, None)
        if self.store is not None:
            self.store.remove(keyframe_id)
        return self.index.remove(keyframe_id)

    def clear(self) -> int:
        """Remove every keyframe (from the store too); returns how many there were."""
        count = len(self.index)
        if self.store is not None:
            self.store.clear()
        self._memory.clear()
        self._features.clear()
        self._feature_bytes = 0
        self._decoded.clear()
        self.index.build([], None, np.zeros((0, 4, 4)))
        return count

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the whole map to a SQLite map file, replacing it atomically; returns the keyframe count.

        A store-backed map is copied with SQLite's online backup; saving to the store's own file is a
        no-op since every change is already committed there.
        """
        path = Path(path)
        if self.store is not None and path.resolve() == self.store.path.resolve():
            return len(self.store)
        if path.exists() and not KeyframeStore.is_map_file(path):
            msg = f"refusing to overwrite {path}: it is not a loftr_ros map (choose another path or delete it)"
            raise MapError(msg)
        tmp = path.with_name(path.name + ".saving")
        try:
            for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                stale.unlink(missing_ok=True)
            if self.store is not None:
                self.store.backup(tmp)
            else:
                with KeyframeStore(tmp, self.config.store) as out:
                    for keyframe_id in self.index.ids:
                        out.add(self._memory[keyframe_id])
                    if self.descriptor_source:
                        out.set_descriptor_source(self.descriptor_source)
            os.replace(tmp, path)
        except (OSError, sqlite3.Error, MapError) as error:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            msg = f"could not save the map to {path}: {error}"
            raise MapError(msg) from None
        logger.info("saved %d keyframes to %s", len(self.index), path)
        return len(self.index)

    def reconfigure(self, config: LocalizerConfig) -> None:
        """Use a new (validated) configuration; the caches shrink to its sizes."""
        self.config = config
        self.index.config = config.retrieval
        self._trim()

    @property
    def feature_cache_bytes(self) -> int:
        """Memory the cached keyframe features hold now."""
        return self._feature_bytes

    def _forget_features(self, keyframe_id: str) -> None:
        entry = self._features.pop(keyframe_id, None)
        if entry is not None:
            self._feature_bytes -= entry[1]

    def _trim(self) -> None:
        limit = self.config.feature_cache_mb * 1e6
        while self._features and self._feature_bytes > limit:
            self._forget_features(next(iter(self._features)))
        decoded_limit = self.config.keyframe_cache_mb * 1e6
        while len(self._decoded) > 1 and sum(map(_keyframe_bytes, self._decoded.values())) > decoded_limit:
            self._decoded.popitem(last=False)

    def keyframe(self, keyframe_id: str) -> Keyframe:
        """A keyframe with pixels (decoded from the store on first use, then kept in a small LRU)."""
        if self.store is None:
            if keyframe_id not in self._memory:
                raise LocalizationError(f"the map has no keyframe {keyframe_id!r}")
            return self._memory[keyframe_id]
        keyframe = self._decoded.get(keyframe_id)
        if keyframe is None:
            keyframe = self.store.get(keyframe_id)
            self._decoded[keyframe_id] = keyframe
            self._trim()
        else:
            self._decoded.move_to_end(keyframe_id)
        return keyframe

    def features(self, keyframe_id: str) -> Any:
        """A keyframe's matcher features: from the LRU, else extracted (and kept)."""
        entry = self._features.get(keyframe_id)
        if entry is not None:
            self._features.move_to_end(keyframe_id)
            return entry[0]
        features = self.matcher.extract(self.keyframe(keyframe_id).image)
        size = self.matcher.feature_bytes(features)
        if size <= self.config.feature_cache_mb * 1e6:
            self._features[keyframe_id] = (features, size)
            self._feature_bytes += size
            self._trim()
        return features
