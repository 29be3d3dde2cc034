"""LoFTR's coarse and fine losses against hand-computed values and known orderings."""

from __future__ import annotations

import math

import pytest
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.training.losses import (
    LoFTRLoss,
    coarse_cross_entropy_loss,
    coarse_focal_loss,
    fine_l2_loss,
    fine_l2_std_loss,
)


def permutation_gt(n: int = 4, matched: int = 3) -> torch.Tensor:
    """(1, n, n) ground truth: cell i matches cell (i + 1) % n for the first ``matched`` cells."""
    gt = torch.zeros(1, n, n)
    for i in range(matched):
        gt[0, i, (i + 1) % n] = 1.0
    return gt


def test_focal_loss_of_a_perfect_prediction_is_near_zero_and_a_wrong_one_is_larger() -> None:
    gt = permutation_gt()
    perfect = gt.clone()
    wrong = gt.roll(1, dims=2)  # every match points at the neighbouring cell
    for sparse in (True, False):
        good = coarse_focal_loss(perfect, gt, sparse_spvs=sparse)
        bad = coarse_focal_loss(wrong, gt, sparse_spvs=sparse)
        assert good.item() < 1e-9
        assert bad.item() > 1.0


def test_sparse_focal_loss_equals_the_formula_on_the_positives() -> None:
    gt = permutation_gt()
    conf = torch.full((1, 4, 4), 0.1)
    conf[gt == 1] = torch.tensor([0.9, 0.5, 0.2])
    p = torch.tensor([0.9, 0.5, 0.2])
    expected = (-0.25 * (1 - p) ** 2 * p.log()).mean()
    torch.testing.assert_close(coarse_focal_loss(conf, gt), expected)
    # dense: the negatives count too, with their own focal term
    neg = torch.tensor(0.1)
    dense_expected = expected + (-0.25 * neg**2 * (1 - neg).log())
    torch.testing.assert_close(coarse_focal_loss(conf, gt, sparse_spvs=False), dense_expected)


def test_sinkhorn_variant_supervises_the_dustbins_of_unmatched_cells() -> None:
    gt = permutation_gt(4, matched=3)  # row 3 and column 0 are unmatched
    with_bin = torch.zeros(1, 5, 5)
    with_bin[0, :4, :4] = gt[0]
    with_bin[0, 3, 4] = 1.0  # row 3 -> dustbin column
    with_bin[0, 4, 0] = 1.0  # column 0 -> dustbin row
    perfect = coarse_focal_loss(with_bin, gt, match_type="sinkhorn")
    assert perfect.item() < 1e-9
    unsure = with_bin.clone()
    unsure[0, 3, 4] = 0.5  # the dustbin entry of row 3 is only 0.5
    expected = -0.25 * 0.5**2 * math.log(0.5) / 2  # one of the two negatives (dustbin entries)
    torch.testing.assert_close(coarse_focal_loss(unsure, gt, match_type="sinkhorn"), torch.tensor(expected))


def test_cross_entropy_of_a_perfect_prediction_is_near_zero() -> None:
    gt = permutation_gt()
    assert coarse_cross_entropy_loss(gt.clone(), gt).item() < 1e-5
    assert coarse_cross_entropy_loss(gt.roll(1, dims=2), gt).item() > 5.0


def test_no_positive_at_all_gives_a_zero_loss_not_nan() -> None:
    gt = torch.zeros(1, 4, 4)
    loss = coarse_focal_loss(torch.full((1, 4, 4), 0.3), gt)
    assert loss.item() == 0.0


def test_fine_l2_with_std_on_a_two_match_example() -> None:
    expec_f = torch.tensor([[0.1, 0.2, 0.5], [0.0, -0.1, 1.0]], requires_grad=True)
    expec_f_gt = torch.tensor([[0.0, 0.0], [0.2, 0.1]])
    # inverse std (2, 1), mean 1.5 -> weights (4/3, 2/3); squared errors 0.05 and 0.08
    expected = (0.05 * 4 / 3 + 0.08 * 2 / 3) / 2  # = 0.06
    loss = fine_l2_std_loss(expec_f, expec_f_gt)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert torch.all(expec_f.grad[:, 2] == 0)  # the weights are detached: std gets no gradient


def test_fine_loss_drops_matches_outside_the_window() -> None:
    expec_f = torch.tensor([[0.1, 0.2, 0.5], [0.0, -0.1, 1.0], [0.0, 0.0, 0.25]])
    expec_f_gt = torch.tensor([[0.0, 0.0], [0.2, 0.1], [1.5, 0.0]])  # the third lies outside
    # weights use all three stds: inverse (2, 1, 4), mean 7/3 -> (6/7, 3/7) for the kept two
    expected = (0.05 * 6 / 7 + 0.08 * 3 / 7) / 2
    assert fine_l2_std_loss(expec_f, expec_f_gt).item() == pytest.approx(expected, rel=1e-6)
    assert fine_l2_loss(expec_f, expec_f_gt).item() == pytest.approx((0.05 + 0.08) / 2, rel=1e-6)
    nan_gt = expec_f_gt.clone()
    nan_gt[2] = float("nan")  # unknown truth: dropped the same way
    assert fine_l2_std_loss(expec_f, nan_gt).item() == pytest.approx(expected, rel=1e-6)


def test_fine_loss_without_any_correct_match() -> None:
    expec_f = torch.tensor([[0.1, 0.2, 0.5]], requires_grad=True)
    far = torch.tensor([[2.0, 0.0]])
    assert fine_l2_std_loss(expec_f, far, training=False) is None
    in_training = fine_l2_std_loss(expec_f, far, training=True)
    assert in_training.item() == 0.0 and in_training.requires_grad  # weight 0, graph kept


def loss_data(conf: torch.Tensor, gt: torch.Tensor) -> dict:
    return {
        "conf_matrix": conf,
        "conf_matrix_gt": gt,
        "expec_f": torch.tensor([[0.1, 0.2, 0.5], [0.0, -0.1, 1.0]]),
        "expec_f_gt": torch.tensor([[0.0, 0.0], [0.2, 0.1]]),
    }


def test_loftr_loss_module_combines_both_terms_with_their_weights() -> None:
    gt = permutation_gt()
    conf = torch.full((1, 4, 4), 0.1)
    conf[gt == 1] = 0.5
    data = loss_data(conf, gt)
    loss = LoFTRLoss({"coarse_weight": 2.0, "fine_weight": 0.5})(data)
    coarse = coarse_focal_loss(conf, gt)
    torch.testing.assert_close(loss, 2.0 * coarse + 0.5 * torch.tensor(0.06))
    assert set(data["loss_scalars"]) == {"loss_c", "loss_f", "loss"}
    assert data["loss"] is loss


def test_loftr_loss_uses_the_matrix_with_dustbins_for_sparse_sinkhorn() -> None:
    gt = permutation_gt()
    data = loss_data(torch.zeros(1, 4, 4), gt)
    with pytest.raises(ConfigError, match="conf_matrix_with_bin"):
        LoFTRLoss({"match_type": "sinkhorn"})(data)
    with_bin = torch.zeros(1, 5, 5)
    with_bin[0, :4, :4] = gt[0]
    with_bin[0, 3, 4] = with_bin[0, 4, 0] = 1.0
    data["conf_matrix_with_bin"] = with_bin
    loss = LoFTRLoss({"match_type": "sinkhorn", "fine_weight": 0.0})(data)
    assert loss.item() < 1e-9


def test_loftr_loss_in_eval_without_correct_fine_matches_reports_the_upper_bound() -> None:
    gt = permutation_gt()
    data = loss_data(gt.clone(), gt)
    data["expec_f_gt"] = torch.tensor([[3.0, 0.0], [0.0, 3.0]])
    module = LoFTRLoss().eval()
    module(data)
    assert data["loss_scalars"]["loss_f"].item() == 1.0


def test_loftr_loss_rejects_unknown_or_invalid_options() -> None:
    with pytest.raises(ConfigError, match="unknown LoFTRLoss option 'coarse_wieght'"):
        LoFTRLoss({"coarse_wieght": 1.0})
    with pytest.raises(ConfigError, match="fine_type"):
        LoFTRLoss({"fine_type": "l1"})
    with pytest.raises(ConfigError, match="sparse_spvs=False"):
        LoFTRLoss({"coarse_type": "cross_entropy"})
    assert LoFTRLoss.default_conf["coarse_weight"] == 1.0  # the defaults are not mutated
