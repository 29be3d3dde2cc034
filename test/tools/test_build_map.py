"""`loftr-ros build-map` from a synthetic bag with known poses and from the real TUM frames laid out as the
official download."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from support.data import SHARED_TUM

from loftr_ros import cli
from loftr_ros.bags.sources import synthetic_bag
from loftr_ros.localization.io import Trajectory
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.synthetic.pairs import PairConfig, make_sequence


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("build_map") / "bag"
    synthetic_bag(path, seed=5, n_frames=16, keyframe_every=4, width=160, height=120)
    return path


def test_build_map_from_a_bag_keeps_the_recorded_poses_and_selects_by_motion(
    bag: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    every = tmp_path / "every.db"
    assert cli.main(["build-map", "--bag", str(bag), "--output", str(every), "--min-distance", "0",
                     "--min-rotation", "0"]) == 0  # fmt: skip
    sequence = make_sequence(5, 16, 4, config=PairConfig(width=160, height=120))
    truth = sorted(
        [*zip(sequence.query_indices, sequence.queries, strict=True)], key=lambda pair: pair[0]
    )  # the bag's /image holds the queries
    with KeyframeStore(every, readonly=True) as store:
        infos = store.list()
    assert len(infos) == len(truth)
    for info, (_, view) in zip(sorted(infos, key=lambda i: i.stamp_ns), truth, strict=True):
        np.testing.assert_allclose(info.T_map_camera, view.T_world_camera, atol=1e-6)
    assert "keyframes of" in capsys.readouterr().out and every.with_suffix(".png").stat().st_size > 10_000

    sparse = tmp_path / "sparse.db"
    assert cli.main(["build-map", "--bag", str(bag), "--output", str(sparse), "--min-distance", "0.5",
                     "--min-rotation", "30"]) == 0  # fmt: skip
    with KeyframeStore(sparse, readonly=True) as store:
        assert 1 <= len(store.ids()) < len(truth)
    before = sparse.read_bytes()
    assert cli.main(["build-map", "--bag", str(bag), "--output", str(sparse)]) == 1  # exists: refused, untouched
    assert sparse.read_bytes() == before


def official_layout(folder: Path) -> Path:
    """The shared TUM frames as the official download lays them out: rgb/, depth/, rgb.txt, depth.txt."""
    folder.mkdir()
    for kind in ("rgb", "depth"):
        (folder / kind).mkdir()
        lines = [f"# {kind} images", "# timestamp filename"]
        for image in sorted((SHARED_TUM / "rgbd" / kind).glob("*.png")):
            os.symlink(image, folder / kind / image.name)
            lines.append(f"{image.stem} {kind}/{image.name}")
        (folder / f"{kind}.txt").write_text("\n".join(lines) + "\n")
    (folder / "groundtruth.txt").write_text((SHARED_TUM / "groundtruth.txt").read_text())
    return folder


@pytest.mark.skipif(not SHARED_TUM.exists(), reason="../shared/data is not beside the checkout")
def test_build_map_from_the_official_tum_layout(tmp_path: Path) -> None:
    folder = official_layout(tmp_path / "rgbd_dataset_freiburg3_long_office_household")
    output = tmp_path / "tum.db"
    assert cli.main(["build-map", "--tum", str(folder), "--output", str(output), "--min-distance", "0",
                     "--min-rotation", "0"]) == 0  # fmt: skip
    trajectory = Trajectory.read_tum(folder / "groundtruth.txt")
    with KeyframeStore(output, readonly=True) as store:
        infos = store.list()
    assert len(infos) >= 10 and all(info.has_depth for info in infos)
    assert infos[0].intrinsics.fx == pytest.approx(535.4)  # fr3, from the folder's name
    for info in infos:
        np.testing.assert_allclose(info.T_map_camera, trajectory.at(info.stamp_ns), atol=1e-9)
    fewer = tmp_path / "fewer.db"
    assert cli.main(["build-map", "--tum", str(folder), "--output", str(fewer), "--min-distance", "0.3"]) == 0
    with KeyframeStore(fewer, readonly=True) as store:
        assert 1 <= len(store.ids()) < len(infos)
