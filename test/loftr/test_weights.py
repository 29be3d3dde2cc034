"""Checkpoints: official and kornia formats, strict keys, corrupt files, named weights offline, our files."""

from __future__ import annotations

import logging
import urllib.error
from pathlib import Path

import pytest
import torch
from kornia.feature import LoFTR as KorniaLoFTR

from loftr_ros.errors import CheckpointError
from loftr_ros.loftr import LoFTR, build_model, default_weights_path, get_config, load_weights, save_weights
from loftr_ros.loftr import weights as weights_module
from loftr_ros.loftr.weights import read_checkpoint, resolve_named_weights


@pytest.fixture(scope="module")
def kornia_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return KorniaLoFTR(pretrained=None).state_dict()


def _same(model: LoFTR, state: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_official_ckpt_with_matcher_prefix_loads(tmp_path: Path, kornia_state: dict) -> None:
    path = tmp_path / "outdoor_ds.ckpt"
    torch.save({"epoch": 3, "state_dict": {f"matcher.{k}": v for k, v in kornia_state.items()}}, path)
    model = build_model(path, "outdoor_ds")
    assert _same(model, kornia_state) and not model.training


def test_kornia_converted_ckpt_loads(tmp_path: Path, kornia_state: dict) -> None:
    path = tmp_path / "loftr_outdoor.ckpt"
    torch.save({"state_dict": kornia_state}, path)
    assert _same(build_model(path, "outdoor"), kornia_state)


def test_sinkhorn_checkpoint_needs_and_fills_bin_score(tmp_path: Path, kornia_state: dict) -> None:
    path = tmp_path / "indoor_ot.ckpt"
    torch.save({"state_dict": {**kornia_state, "coarse_matching.bin_score": torch.tensor(0.25)}}, path)
    model = build_model(path, "indoor_ot")
    assert model.coarse_matching.bin_score.item() == 0.25
    with pytest.raises(CheckpointError, match=r"indoor_ot\.ckpt.*unexpected keys.*bin_score"):
        build_model(path, "indoor_ds")


def test_wrong_shapes_and_missing_keys_name_the_file(tmp_path: Path, kornia_state: dict) -> None:
    path = tmp_path / "mine.ckpt"
    torch.save({"state_dict": kornia_state}, path)
    with pytest.raises(CheckpointError, match=r"mine\.ckpt.*shape mismatches"):
        build_model(path, "tiny")
    partial = {k: v for k, v in kornia_state.items() if k != "backbone.conv1.weight"}
    torch.save({"state_dict": partial}, path)
    with pytest.raises(CheckpointError, match=r"mine\.ckpt.*missing keys.*backbone\.conv1\.weight"):
        build_model(path, "outdoor")


def test_truncated_and_garbage_files_raise_checkpoint_error(tmp_path: Path, kornia_state: dict) -> None:
    path = tmp_path / "cut.ckpt"
    torch.save({"state_dict": kornia_state}, path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"cut\.ckpt cannot be read"):
        read_checkpoint(path)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pth cannot be read"):
        read_checkpoint(junk)
    with pytest.raises(CheckpointError, match="neither a file nor one of"):
        build_model(tmp_path / "absent.ckpt")


class _Payload:
    """An arbitrary class: unpickling it would run code, weights_only loading refuses it."""


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    with path.open("wb") as stream:
        torch.save({"state_dict": {}, "extra": _Payload()}, stream)
    with pytest.raises(CheckpointError, match=r"evil\.ckpt holds Python objects besides tensors") as raised:
        read_checkpoint(path)
    assert "weights_only=False" not in str(raised.value)  # never advise running a file's code


def test_absurd_model_configs_are_refused_before_building() -> None:
    from loftr_ros.errors import ConfigError
    from loftr_ros.loftr import get_config

    config = get_config("tiny")
    config.coarse.layer_names = ("self", "cross") * 5000
    with pytest.raises(ConfigError, match="exceed 64 layers"):
        config.validate()
    config = get_config("tiny")
    config.backbone.block_dims = (16, 24, 1 << 20)
    with pytest.raises(ConfigError, match="exceed 2048 channels"):
        config.validate()


def test_our_safetensors_round_trip_with_the_config_beside(tmp_path: Path) -> None:
    torch.manual_seed(1)
    config = get_config("tiny")
    config.match_coarse.thr = 0.05
    model = LoFTR(config)
    path = save_weights(model, tmp_path / "run1" / "small.safetensors")
    assert (tmp_path / "run1" / "small.json").is_file()
    _, loaded_config = load_weights(path)
    assert loaded_config == config
    rebuilt = build_model(path)
    assert rebuilt.config == config and _same(rebuilt, model.state_dict())


def test_our_files_corrupt_or_without_config_raise(tmp_path: Path) -> None:
    path = save_weights(LoFTR(get_config("tiny")), tmp_path / "w.safetensors")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"w\.safetensors cannot be read"):
        load_weights(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match=r"no config beside it.*w\.json"):
        load_weights(path)


def test_named_weights_offline_say_file_address_and_where(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOFTR_ROS_CACHE", str(tmp_path / "cache"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(weights_module.urllib.request, "urlopen", offline)
    expected = str(tmp_path / "cache" / "loftr_outdoor.ckpt")
    with pytest.raises(CheckpointError, match=r"loftr_outdoor\.ckpt from http://cmp\.felk\.cvut\.cz") as info:
        resolve_named_weights("outdoor")
    assert expected in str(info.value) and "by hand" in str(info.value)
    assert not list((tmp_path / "cache").glob("*"))  # no partial file left behind


def test_google_drive_only_weights_point_to_the_official_page(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOFTR_ROS_CACHE", str(tmp_path))
    with pytest.raises(CheckpointError, match=r"Google Drive.*github.com/zju3dv/LoFTR.*indoor_ds\.ckpt"):
        resolve_named_weights("indoor_ds")
    with pytest.raises(CheckpointError, match="unknown weights name 'outdoor_xx'"):
        resolve_named_weights("outdoor_xx")


def test_named_weights_in_the_cache_load_and_log_their_hash(
    tmp_path: Path, monkeypatch, kornia_state: dict, caplog
) -> None:
    monkeypatch.setenv("LOFTR_ROS_CACHE", str(tmp_path))
    torch.save(
        {"state_dict": {**kornia_state, "coarse_matching.bin_score": torch.tensor(1.0)}},
        tmp_path / "outdoor_ot.ckpt",
    )
    with caplog.at_level(logging.INFO, logger="loftr_ros"):
        model = build_model("outdoor_ot")
    assert model.config.match_coarse.match_type == "sinkhorn"
    assert model.config.coarse.temp_bug_fix is False
    digest = weights_module.sha256_of(tmp_path / "outdoor_ot.ckpt")
    assert digest in caplog.text


def test_a_recorded_hash_is_checked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOFTR_ROS_CACHE", str(tmp_path))
    (tmp_path / "loftr_indoor.ckpt").write_bytes(b"tampered")
    entry = weights_module.NAMED_WEIGHTS["indoor"]
    monkeypatch.setitem(
        weights_module.NAMED_WEIGHTS,
        "indoor",
        weights_module.NamedWeights(entry.filename, entry.preset, entry.url, "0" * 64),
    )
    with pytest.raises(CheckpointError, match=r"loftr_indoor\.ckpt has SHA-256 .* expected 0000"):
        resolve_named_weights("indoor")


def test_default_weights_are_not_shipped_yet(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(weights_module, "PACKAGE_WEIGHTS_DIR", tmp_path)
    with pytest.raises(CheckpointError, match=r"no shipped weights at .*loftr_ros_default\.safetensors"):
        default_weights_path()
    save_weights(LoFTR(get_config("tiny")), tmp_path / "loftr_ros_default.safetensors")
    assert default_weights_path() == tmp_path / "loftr_ros_default.safetensors"
    assert build_model("default").config == get_config("tiny")
