"""LoFTR's training losses (paper section 3.5; official ``loftr_loss.py``), as functions and a module.

Coarse: focal loss (or cross entropy) on the confidence matrix against ``conf_matrix_gt``. With
``sparse_spvs`` (the official default) dual-softmax is supervised on the positives only and
sinkhorn on the positives plus the dustbin entries of unmatched rows and columns. Fine: L2 between
the predicted and true sub-pixel offsets (in window radii), optionally weighted by the inverse of
the predicted standard deviation; matches whose truth lies outside the window are dropped.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import torch
from torch import nn

from loftr_ros.errors import ConfigError

logger = logging.getLogger("loftr_ros.training")

_EPS = 1e-6


def _placeholder(mask: torch.Tensor, weight: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``mask`` with its first entry set, and ``weight`` with that entry zeroed (copies, inputs untouched)."""
    mask = mask.clone()
    mask[0, 0, 0] = True
    if weight is not None:
        weight = weight.clone()
        weight[0, 0, 0] = 0.0
    return mask, weight


def _masks_with_fallback(
    conf_gt: torch.Tensor, weight: torch.Tensor | None, pos_weight: float, neg_weight: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float, float]:
    """Official corner case: with no positive (negative) at all, supervise one entry with weight 0."""
    pos_mask, neg_mask = conf_gt == 1, conf_gt == 0
    if not pos_mask.any():
        pos_mask, weight = _placeholder(pos_mask, weight)
        pos_weight = 0.0
    if not neg_mask.any():
        neg_mask, weight = _placeholder(neg_mask, weight)
        neg_weight = 0.0
    return pos_mask, neg_mask, weight, pos_weight, neg_weight


def coarse_focal_loss(
    conf: torch.Tensor,
    conf_gt: torch.Tensor,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    pos_weight: float = 1.0,
    neg_weight: float = 1.0,
    match_type: str = "dual_softmax",
    sparse_spvs: bool = True,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Focal loss of a coarse confidence matrix (official ``coarse_type='focal'``).

    Args:
        conf: (B, L0, L1) matching probabilities; for sinkhorn with ``sparse_spvs`` the matrix with
            dustbins, (B, L0 + 1, L1 + 1).
        conf_gt: (B, L0, L1) 0/1 ground truth.
        weight: (B, L0, L1) per-entry weights (0 at padded cells) or None.

    Returns:
        Scalar loss.
    """
    if match_type not in ("dual_softmax", "sinkhorn"):
        msg = f"match_type must be 'dual_softmax' or 'sinkhorn', got {match_type!r}"
        raise ConfigError(msg)
    pos_mask, neg_mask, weight, c_pos_w, c_neg_w = _masks_with_fallback(conf_gt, weight, pos_weight, neg_weight)
    conf = conf.float().clamp(_EPS, 1.0 - _EPS)  # fp32 even under autocast: 1 - 1e-6 is 1 in bf16
    if sparse_spvs:
        sinkhorn = match_type == "sinkhorn"
        pos_conf = conf[:, :-1, :-1][pos_mask] if sinkhorn else conf[pos_mask]
        loss_pos = -alpha * torch.pow(1 - pos_conf, gamma) * pos_conf.log()
        if weight is not None:
            loss_pos = loss_pos * weight[pos_mask]
        if not sinkhorn:
            # dual-softmax has no dustbin: unmatchable cells are left unsupervised, as officially
            return c_pos_w * loss_pos.mean()
        # unmatched rows (columns) should go to the dustbin column (row)
        neg0, neg1 = conf_gt.sum(-1) == 0, conf_gt.sum(1) == 0
        neg_conf = torch.cat([conf[:, :-1, -1][neg0], conf[:, -1, :-1][neg1]], 0)
        loss_neg = -alpha * torch.pow(1 - neg_conf, gamma) * neg_conf.log()
        if weight is not None:
            keep = torch.cat([(weight.sum(-1) != 0)[neg0], (weight.sum(1) != 0)[neg1]], 0)
            loss_neg = loss_neg[keep]
        return c_pos_w * loss_pos.mean() + c_neg_w * loss_neg.mean()
    # dense supervision; with sinkhorn the dustbins are not supervised
    loss_pos = -alpha * torch.pow(1 - conf[pos_mask], gamma) * conf[pos_mask].log()
    loss_neg = -alpha * torch.pow(conf[neg_mask], gamma) * (1 - conf[neg_mask]).log()
    if weight is not None:
        loss_pos = loss_pos * weight[pos_mask]
        loss_neg = loss_neg * weight[neg_mask]
    return c_pos_w * loss_pos.mean() + c_neg_w * loss_neg.mean()


def coarse_cross_entropy_loss(
    conf: torch.Tensor,
    conf_gt: torch.Tensor,
    *,
    pos_weight: float = 1.0,
    neg_weight: float = 1.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Binary cross entropy of a (B, L0, L1) confidence matrix, dense (official ``'cross_entropy'``)."""
    pos_mask, neg_mask, weight, c_pos_w, c_neg_w = _masks_with_fallback(conf_gt, weight, pos_weight, neg_weight)
    conf = conf.float().clamp(_EPS, 1.0 - _EPS)  # fp32 even under autocast: 1 - 1e-6 is 1 in bf16
    loss_pos = -torch.log(conf[pos_mask])
    loss_neg = -torch.log(1 - conf[neg_mask])
    if weight is not None:
        loss_pos = loss_pos * weight[pos_mask]
        loss_neg = loss_neg * weight[neg_mask]
    return c_pos_w * loss_pos.mean() + c_neg_w * loss_neg.mean()


def _correct_mask(expec_f_gt: torch.Tensor, correct_thr: float) -> torch.Tensor:
    # NaN ground truth (unknown warp) compares False and is dropped
    return torch.linalg.norm(expec_f_gt, ord=float("inf"), dim=1) < correct_thr


def fine_l2_loss(
    expec_f: torch.Tensor, expec_f_gt: torch.Tensor, *, correct_thr: float = 1.0, training: bool = True
) -> torch.Tensor | None:
    """Mean squared offset error over matches whose truth is inside the window (official ``'l2'``).

    Args:
        expec_f: (M, 2) or (M, 3) predicted offsets (dx, dy[, std]) in window radii.
        expec_f_gt: (M, 2) true offsets in window radii.

    Returns:
        Scalar loss; None outside training when no match is correct (the official behaviour; in
        training one match is supervised instead, to keep distributed training in step).
    """
    expec_f, expec_f_gt = expec_f.float(), expec_f_gt.float()  # fp32 even under autocast
    correct = _correct_mask(expec_f_gt, correct_thr)
    if correct.numel() == 0:
        return None if not training else expec_f.sum() * 0.0
    gt = expec_f_gt
    if not correct.any():
        if not training:
            return None
        logger.warning("no fine-level match inside its window; supervising a wrong one to keep DDP in step")
        correct = correct.clone()
        correct[0] = True
        gt = torch.nan_to_num(expec_f_gt)
    return ((gt[correct] - expec_f[correct, :2]) ** 2).sum(-1).mean()


def fine_l2_std_loss(
    expec_f: torch.Tensor, expec_f_gt: torch.Tensor, *, correct_thr: float = 1.0, training: bool = True
) -> torch.Tensor | None:
    """L2 offset error weighted by the inverse predicted std (official ``'l2_with_std'``).

    weight_k = (1 / std_k) / mean_over_all_M(1 / std), detached so the model cannot lower the loss
    by raising its std; loss = mean over correct matches of weight_k * |gt_k - pred_k|^2.

    Args:
        expec_f: (M, 3) predicted (dx, dy, std), offsets in window radii.
        expec_f_gt: (M, 2) true offsets in window radii.

    Returns:
        Scalar loss, or None outside training when no match is correct (see :func:`fine_l2_loss`).
    """
    expec_f, expec_f_gt = expec_f.float(), expec_f_gt.float()  # fp32 even under autocast
    correct = _correct_mask(expec_f_gt, correct_thr)
    if correct.numel() == 0:
        return None if not training else expec_f.sum() * 0.0
    std = expec_f[:, 2]
    inverse_std = 1.0 / torch.clamp(std, min=1e-10)
    weight = (inverse_std / torch.mean(inverse_std)).detach()
    gt = expec_f_gt
    if not correct.any():
        if not training:
            return None
        logger.warning("no fine-level match inside its window; supervising one with weight 0")
        correct = correct.clone()
        correct[0] = True
        weight = weight.clone()
        weight[0] = 0.0
        gt = torch.nan_to_num(expec_f_gt)
    offset_l2 = ((gt[correct] - expec_f[correct, :2]) ** 2).sum(-1)
    return (offset_l2 * weight[correct]).mean()


class LoFTRLoss(nn.Module):
    """The LoFTR loss over the official data dict: ``loss = coarse_weight * L_c + fine_weight * L_f``.

    Reads ``conf_matrix`` (B, L0, L1) (or ``conf_matrix_with_bin`` (B, L0 + 1, L1 + 1) for sparse
    sinkhorn), ``conf_matrix_gt`` (B, L0, L1), ``expec_f`` (M, 3) and ``expec_f_gt`` (M, 2), and
    ``mask0``, ``mask1`` (B, h_c, w_c) when present (padded cells get weight 0). Writes ``loss``
    (scalar tensor) and ``loss_scalars`` (dict of detached CPU scalars ``loss_c``, ``loss_f``,
    ``loss``) into the dict and returns the loss.
    """

    default_conf: dict[str, Any] = {  # noqa: RUF012 - read-only defaults, copied per instance
        "coarse_type": "focal",  # 'focal' or 'cross_entropy'
        "coarse_weight": 1.0,  # weight of the coarse loss in the total
        "focal_alpha": 0.25,  # focal loss alpha
        "focal_gamma": 2.0,  # focal loss gamma
        "pos_weight": 1.0,  # weight of the positive (matched) entries
        "neg_weight": 1.0,  # weight of the negative entries (or dustbins for sparse sinkhorn)
        "fine_type": "l2_with_std",  # 'l2_with_std' or 'l2'
        "fine_weight": 1.0,  # weight of the fine loss in the total
        "fine_correct_thr": 1.0,  # drop fine matches whose truth is farther than this, window radii
        "match_type": "dual_softmax",  # coarse matcher: 'dual_softmax' or 'sinkhorn'
        "sparse_spvs": True,  # supervise positives (and dustbins) only, as the official default
    }
    _choices: dict[str, tuple[str, ...]] = {  # noqa: RUF012
        "coarse_type": ("focal", "cross_entropy"),
        "fine_type": ("l2_with_std", "l2"),
        "match_type": ("dual_softmax", "sinkhorn"),
    }

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        conf = copy.deepcopy(self.default_conf)
        for key, value in (config or {}).items():
            if key not in conf:
                msg = f"unknown LoFTRLoss option {key!r}; valid ones: {', '.join(sorted(conf))}"
                raise ConfigError(msg)
            conf[key] = value
        for key, choices in self._choices.items():
            if conf[key] not in choices:
                msg = f"LoFTRLoss option {key}={conf[key]!r} is not one of {choices}"
                raise ConfigError(msg)
        if conf["coarse_type"] == "cross_entropy" and conf["sparse_spvs"]:
            msg = "coarse_type='cross_entropy' supports dense supervision only; set sparse_spvs=False"
            raise ConfigError(msg)
        self.conf = conf

    def coarse_loss(self, data: dict) -> torch.Tensor:
        """The coarse term alone (unweighted)."""
        conf = self.conf
        use_bin = conf["sparse_spvs"] and conf["match_type"] == "sinkhorn"
        key = "conf_matrix_with_bin" if use_bin else "conf_matrix"
        if key not in data:
            msg = f"LoFTRLoss with match_type={conf['match_type']!r} needs data[{key!r}]"
            raise ConfigError(msg)
        weight = None
        if "mask0" in data:
            weight = (data["mask0"].flatten(-2)[..., None] * data["mask1"].flatten(-2)[:, None]).float()
        if conf["coarse_type"] == "cross_entropy":
            return coarse_cross_entropy_loss(
                data[key],
                data["conf_matrix_gt"],
                pos_weight=conf["pos_weight"],
                neg_weight=conf["neg_weight"],
                weight=weight,
            )
        return coarse_focal_loss(
            data[key],
            data["conf_matrix_gt"],
            alpha=conf["focal_alpha"],
            gamma=conf["focal_gamma"],
            pos_weight=conf["pos_weight"],
            neg_weight=conf["neg_weight"],
            match_type=conf["match_type"],
            sparse_spvs=conf["sparse_spvs"],
            weight=weight,
        )

    def fine_loss(self, data: dict) -> torch.Tensor | None:
        """The fine term alone (unweighted); None outside training when no match is correct."""
        fn = fine_l2_std_loss if self.conf["fine_type"] == "l2_with_std" else fine_l2_loss
        return fn(
            data["expec_f"],
            data["expec_f_gt"],
            correct_thr=self.conf["fine_correct_thr"],
            training=self.training,
        )

    def forward(self, data: dict) -> torch.Tensor:
        """Compute the total loss, store ``loss`` and ``loss_scalars`` in ``data``, return the loss."""
        loss_c = self.coarse_loss(data)
        loss = loss_c * self.conf["coarse_weight"]
        scalars = {"loss_c": loss_c.detach().cpu()}
        loss_f = self.fine_loss(data)
        if loss_f is not None:
            loss = loss + loss_f * self.conf["fine_weight"]
            scalars["loss_f"] = loss_f.detach().cpu()
        else:
            scalars["loss_f"] = torch.tensor(1.0)  # the upper bound, as officially reported
        scalars["loss"] = loss.detach().cpu()
        data.update({"loss": loss, "loss_scalars": scalars})
        return loss
