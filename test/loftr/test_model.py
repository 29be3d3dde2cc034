"""The nn.Module: training hooks (conf_matrix, indices, expec_f, ground truth), batching, shapes."""

from __future__ import annotations

from collections.abc import Callable

import torch

from loftr_ros.loftr import LoFTR, get_config
from loftr_ros.loftr.config import CoarseMatchingConfig


def _tensor(image) -> torch.Tensor:
    return torch.from_numpy(image).float().div(255.0)[None, None]


def test_training_forward_exposes_the_supervision_keys_and_backpropagates(textured_pair: Callable) -> None:
    torch.manual_seed(0)
    config = get_config("tiny").replace(
        match_coarse=CoarseMatchingConfig(train_coarse_percent=0.3, train_pad_num_gt_min=8)
    )
    model = LoFTR(config).train()
    image0, image1 = (_tensor(im) for im in textured_pair(64, 80))
    data = {
        "image0": image0,
        "image1": image1,
        "spv_b_ids": torch.zeros(10, dtype=torch.long),
        "spv_i_ids": torch.arange(10) + 20,
        "spv_j_ids": torch.arange(10) + 21,
    }
    out = model(data)
    assert out is data
    l_cells, s_cells = 8 * 10, 8 * 10
    assert out["conf_matrix"].shape == (1, l_cells, s_cells)
    m = len(out["b_ids"])
    assert out["expec_f"].shape == (m, 3) and m >= 8
    assert out["gt_mask"].sum() >= 8
    assert (out["expec_f"][:, 2] > 0).all()  # std
    assert (out["expec_f"][:, :2].abs() <= 1).all()
    loss = out["conf_matrix"].mean() + out["expec_f"].square().mean()
    loss.backward()
    assert model.backbone.conv1.weight.grad is not None
    assert model.loftr_fine.layers[0].q_proj.weight.grad.abs().sum() > 0


def test_sinkhorn_model_exposes_the_matrix_with_dustbins(textured_pair: Callable) -> None:
    torch.manual_seed(0)
    model = LoFTR(get_config("tiny").replace(match_coarse=CoarseMatchingConfig(match_type="sinkhorn"))).eval()
    image0, image1 = (_tensor(im) for im in textured_pair(48, 64))
    with torch.inference_mode():
        out = model({"image0": image0, "image1": image1})
    assert out["conf_matrix_with_bin"].shape == (1, 6 * 8 + 1, 6 * 8 + 1)
    torch.testing.assert_close(out["conf_matrix"], out["conf_matrix_with_bin"][:, :-1, :-1])


def test_one_query_against_a_batch_of_keyframes_equals_pairs(textured_pair: Callable) -> None:
    torch.manual_seed(0)
    config = get_config("tiny")
    config.match_coarse.thr = 0.0
    model = LoFTR(config).eval()
    query, kf_a = textured_pair(64, 80, seed=0)
    _, kf_b = textured_pair(64, 80, seed=3)
    q = _tensor(query)
    with torch.inference_mode():
        feats = [model.extract_features(_tensor(im)) for im in (kf_a, kf_b)]
        batched = model(
            {"image0": q, "features1": (torch.cat([f[0] for f in feats]), torch.cat([f[1] for f in feats]))}
        )
        for b, f in enumerate(feats):
            single = model({"image0": q, "features1": f})
            sel = batched["m_bids"] == b
            assert len(single["mconf"]) > 0
            torch.testing.assert_close(batched["mkpts0_f"][sel], single["mkpts0_f"])
            torch.testing.assert_close(batched["mkpts1_f"][sel], single["mkpts1_f"], atol=1e-4, rtol=0)
            torch.testing.assert_close(batched["conf_matrix"][b : b + 1], single["conf_matrix"])


def test_image_size_mask_and_coarse_mask_agree(textured_pair: Callable) -> None:
    torch.manual_seed(0)
    model = LoFTR(get_config("tiny")).eval()
    image0, image1 = (_tensor(im) for im in textured_pair(64, 80))
    mask = torch.ones(1, 64, 80, dtype=torch.bool)
    mask[:, 48:] = False
    with torch.inference_mode():
        a = model({"image0": image0, "image1": image1, "mask0": mask, "mask1": mask})
        b = model({"image0": image0, "image1": image1, "mask0": mask[:, ::8, ::8], "mask1": mask[:, ::8, ::8]})
    torch.testing.assert_close(a["conf_matrix"], b["conf_matrix"])
    assert (a["conf_matrix"].view(1, 8, 10, 80)[:, 6:] == 0).all()
