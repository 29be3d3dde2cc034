"""The synthetic Dataset yields official LoFTR batches whose supervision finds true matches."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from loftr_ros.synthetic import NO_NUISANCE, HomographyConfig, PairConfig, SceneConfig
from loftr_ros.training.dataset import SyntheticDatasetConfig, SyntheticPairDataset
from loftr_ros.training.supervision import compute_supervision_coarse

H, W = 120, 160


def small_config(**overrides) -> SyntheticDatasetConfig:
    options = {
        "length": 6,
        "seed": 3,
        "homography_ratio": 0.5,
        "pair": PairConfig(width=W, height=H),
        "scene": SceneConfig(tile_size=128),
        "homography": HomographyConfig(width=W, height=H),
    }
    options.update(overrides)
    return SyntheticDatasetConfig(**options)


def test_items_follow_the_official_data_dict_layout() -> None:
    dataset = SyntheticPairDataset(small_config())
    item = dataset[0]
    assert item["image0"].shape == (1, H, W) and item["image0"].dtype == torch.float32
    assert item["image0"].min() >= 0.0 and item["image0"].max() <= 1.0
    assert item["depth0"].shape == (H, W) and item["depth1"].dtype == torch.float32
    assert item["K0"].shape == (3, 3) and item["T_0to1"].shape == (4, 4) and item["H_0to1"].shape == (3, 3)
    torch.testing.assert_close(item["T_0to1"] @ item["T_1to0"], torch.eye(4), atol=1e-5, rtol=0)
    assert item["dataset_name"] == "synthetic"
    kinds = {bool(dataset[i]["is_homography"]) for i in range(len(dataset))}
    assert kinds == {True, False}  # this seed mixes both kinds


def test_items_are_deterministic_whatever_the_access_order() -> None:
    a = SyntheticPairDataset(small_config())
    b = SyntheticPairDataset(small_config())
    late = b[5]
    for key in ("image0", "image1", "depth0", "T_0to1", "H_0to1"):
        assert torch.equal(a[5][key], late[key])
        assert torch.equal(a[1][key], b[1][key])


def test_a_batch_gets_correct_coarse_supervision() -> None:
    """Matched cells look alike: the pixels at matched cell origins agree far better than random pairs."""
    config = small_config(
        pair=PairConfig(width=W, height=H, occluder_prob=0.0, nuisances=False),
        scene=SceneConfig(tile_size=128, nuisance=NO_NUISANCE),
        homography=HomographyConfig(width=W, height=H, nuisances=False),
    )
    loader = DataLoader(SyntheticPairDataset(config), batch_size=3, shuffle=False)
    for batch in loader:
        compute_supervision_coarse(batch)
        b, i = batch["spv_b_ids"], batch["spv_i_ids"]
        assert batch["conf_matrix_gt"].shape == (3, (H // 8) * (W // 8), (H // 8) * (W // 8))
        assert set(b.tolist()) == {0, 1, 2}  # every pair has matches
        assert torch.all(batch["conf_matrix_gt"].sum(-1) <= 1)  # one-to-one
        p0 = batch["spv_w_pt0_i"][b, i]  # where cell i truly lands, sub-pixel
        image1 = batch["image1"][:, 0]
        x1, y1 = p0[:, 0].round().long(), p0[:, 1].round().long()
        x0, y0 = (i % (W // 8)) * 8, (i // (W // 8)) * 8
        same = (batch["image0"][b, 0, y0, x0] - image1[b, y1, x1]).abs().mean()
        other = (batch["image0"][b, 0, y0, x0] - image1[b, y1.flip(0), x1.flip(0)]).abs().mean()
        assert same < 0.3 * other


def test_a_mixed_dataset_draws_both_distributions_reproducibly() -> None:
    import dataclasses

    from loftr_ros.synthetic.wide_pairs import WidePairConfig
    from loftr_ros.training.train import TrainConfig, dataset_config

    config = dataset_config(dataclasses.replace(TrainConfig(), data="mixed", steps=20, batch_size=1))
    assert isinstance(config.pair, WidePairConfig) and config.mix_ratio == 0.5
    dataset = SyntheticPairDataset(config)
    drawn = [dataset._from_mix(i) for i in range(20)]
    assert 4 <= sum(drawn) <= 16  # both halves present
    mixed_index = drawn.index(True)
    a, b = dataset.sample(mixed_index), SyntheticPairDataset(config).sample(mixed_index)
    assert np.array_equal(a.view0.image, b.view0.image)
