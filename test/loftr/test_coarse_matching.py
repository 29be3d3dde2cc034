"""Coarse matching against its definitions: dual-softmax, Sinkhorn marginals, mutual NN, border, masks."""

from __future__ import annotations

import pytest
import torch

from loftr_ros.loftr import LoFTR, get_config
from loftr_ros.loftr.coarse_matching import CoarseMatching, log_optimal_transport
from loftr_ros.loftr.config import CoarseMatchingConfig


def _data(h0: int, w0: int, h1: int, w1: int) -> dict:
    return {"hw0_c": (h0, w0), "hw1_c": (h1, w1), "stride_c": 8}


@pytest.mark.parametrize(("m", "n"), [(6, 9), (12, 5)])
def test_sinkhorn_reaches_the_prescribed_marginals_with_dustbins(m: int, n: int) -> None:
    torch.manual_seed(0)
    scores = torch.randn(2, m, n, dtype=torch.float64) * 3
    assignment = log_optimal_transport(scores, torch.tensor(0.7, dtype=torch.float64), iters=500).exp()
    assert assignment.shape == (2, m + 1, n + 1)
    rows, cols = assignment.sum(2), assignment.sum(1)
    # every real row / column carries 1, the dustbins take the rest: n and m
    torch.testing.assert_close(rows[:, :m], torch.ones(2, m, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(cols[:, :n], torch.ones(2, n, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(rows[:, m], torch.full((2,), float(n), dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(cols[:, n], torch.full((2,), float(m), dtype=torch.float64), atol=1e-6, rtol=0)


def test_sinkhorn_few_iterations_are_not_yet_converged() -> None:
    torch.manual_seed(0)
    assignment = log_optimal_transport(torch.randn(1, 6, 9) * 3, torch.tensor(0.7), iters=1).exp()
    assert (assignment.sum(2)[:, :6] - 1).abs().max() > 1e-3  # the marginal test above can fail


def test_bin_score_is_a_learnable_parameter_with_the_official_name() -> None:
    model = LoFTR(get_config("tiny").replace(match_coarse=CoarseMatchingConfig(match_type="sinkhorn")))
    assert "coarse_matching.bin_score" in model.state_dict()
    assert model.coarse_matching.bin_score.requires_grad
    assert "coarse_matching.bin_score" not in LoFTR(get_config("tiny")).state_dict()
    torch.manual_seed(0)
    feats = torch.randn(1, 12, 8, requires_grad=True), torch.randn(1, 12, 8)
    data = _data(3, 4, 3, 4)
    model.coarse_matching.eval()
    model.coarse_matching(*feats, data)
    data["conf_matrix_with_bin"][:, :-1, -1].sum().backward()
    assert model.coarse_matching.bin_score.grad is not None and model.coarse_matching.bin_score.grad != 0


def test_dual_softmax_is_the_product_of_both_softmaxes() -> None:
    torch.manual_seed(0)
    f0, f1 = torch.randn(2, 20, 16), torch.randn(2, 15, 16)
    matcher = CoarseMatching(CoarseMatchingConfig(dsmax_temperature=0.1)).eval()
    data = _data(4, 5, 3, 5)
    matcher(f0, f1, data)
    sim = torch.einsum("nlc,nsc->nls", f0 / 4.0, f1 / 4.0) / 0.1  # features / sqrt(C), then / temperature
    torch.testing.assert_close(data["conf_matrix"], sim.softmax(1) * sim.softmax(2))


def test_mutual_nearest_neighbours_threshold_and_border() -> None:
    matcher = CoarseMatching(CoarseMatchingConfig(thr=0.2, border_rm=1)).eval()
    conf = torch.zeros(1, 16, 16)  # two 4x4 grids
    conf[0, 5, 6] = 0.9  # inner cells, mutual: a match
    conf[0, 6, 9] = 0.5  # inner, mutual
    conf[0, 10, 10] = 0.1  # below the threshold
    conf[0, 9, 5] = 0.4  # row 9's best ...
    conf[0, 0, 5] = 0.6  # ... but column 5 prefers a border cell: not mutual
    conf[0, 1, 0] = 0.8  # mutual but on the border of image 0 (row 0)
    out = matcher.get_coarse_match(conf, _data(4, 4, 4, 4))
    assert sorted(zip(out["i_ids"].tolist(), out["j_ids"].tolist(), strict=True)) == [(5, 6), (6, 9)]
    torch.testing.assert_close(out["mkpts0_c"][out["i_ids"] == 5], torch.tensor([[8.0, 8.0]]))
    torch.testing.assert_close(out["mkpts1_c"][out["i_ids"] == 5], torch.tensor([[16.0, 8.0]]))


def test_padded_cells_get_zero_confidence_and_no_match() -> None:
    torch.manual_seed(0)
    f = torch.randn(1, 36, 8)
    mask = torch.ones(1, 6, 6, dtype=torch.bool)
    mask[:, :, 4:] = False  # two padded columns
    matcher = CoarseMatching(CoarseMatchingConfig(thr=0.0, border_rm=1)).eval()
    data = _data(6, 6, 6, 6)
    matcher(f, f.clone(), data, mask.flatten(1), mask.flatten(1))
    invalid = ~mask.flatten(1)
    assert (data["conf_matrix"][0][invalid[0]] == 0).all()
    assert (data["conf_matrix"][0][:, invalid[0]] == 0).all()
    # identical features: every valid cell off the border of the valid 6x4 area matches itself
    cols = data["i_ids"] % 6
    rows = data["i_ids"] // 6
    assert ((cols >= 1) & (cols <= 2) & (rows >= 1) & (rows <= 4)).all()
    assert torch.equal(data["i_ids"], data["j_ids"]) and len(data["i_ids"]) == 8


def test_training_pads_ground_truth_matches() -> None:
    torch.manual_seed(0)
    matcher = CoarseMatching(CoarseMatchingConfig(thr=0.0, train_coarse_percent=0.5, train_pad_num_gt_min=4))
    matcher.train()
    data = _data(8, 8, 8, 8)
    data.update(
        spv_b_ids=torch.zeros(5, dtype=torch.long),
        spv_i_ids=torch.arange(5),
        spv_j_ids=torch.arange(5) + 10,
    )
    matcher(torch.randn(1, 64, 8, requires_grad=True), torch.randn(1, 64, 8), data)
    assert data["conf_matrix"].requires_grad
    num_train = 32  # 0.5 of max(64, 64) candidates
    assert len(data["b_ids"]) >= data["gt_mask"].sum() >= 4
    assert len(data["b_ids"]) == max(num_train, len(data["mconf"]) + int(data["gt_mask"].sum()))
    gt_i = data["i_ids"][data["gt_mask"]]
    assert torch.equal(data["j_ids"][data["gt_mask"]], gt_i + 10)


def test_training_without_ground_truth_says_what_is_missing() -> None:
    matcher = CoarseMatching(CoarseMatchingConfig()).train()
    with pytest.raises(KeyError, match="spv_b_ids"):
        matcher(torch.randn(1, 64, 8), torch.randn(1, 64, 8), _data(8, 8, 8, 8))
