"""Coarse matching: a confidence matrix between the 1/8 tokens of two images, then mutual nearest neighbours.

Two differentiable matching layers, as in the paper: dual-softmax, and Sinkhorn optimal transport with a
learnable dustbin score (``coarse_matching.bin_score`` in checkpoints of '_ot' models).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from loftr_ros.loftr.config import CoarseMatchingConfig

logger = logging.getLogger(__name__)

INF = 1e9  # the official masking value


def _masked_value(dtype: torch.dtype) -> float:
    """-INF, or the lowest finite value of dtype when INF overflows it (fp16): keeps softmax nan-free."""
    return -min(INF, torch.finfo(dtype).max)


def log_optimal_transport(scores: torch.Tensor, bin_score: torch.Tensor, iters: int) -> torch.Tensor:
    """Log-domain Sinkhorn with a dustbin row and column (SuperGlue's formulation).

    ==========  ==============  ================================================
    name        shape           meaning
    ==========  ==============  ================================================
    scores      (N, L, S)       similarities
    bin_score   ()              dustbin score, learnable
    out         (N, L+1, S+1)   log assignment, scaled so that the marginals of
                                exp(out) are 1 for every row / column and S / L
                                for the dustbin row / column
    ==========  ==============  ================================================
    """
    n, m, s = scores.shape
    ms = scores.new_tensor(float(m))
    ns = scores.new_tensor(float(s))
    alpha = bin_score.to(scores.dtype)
    couplings = torch.cat(
        [
            torch.cat([scores, alpha.expand(n, m, 1)], dim=2),
            torch.cat([alpha.expand(n, 1, s), alpha.expand(n, 1, 1)], dim=2),
        ],
        dim=1,
    )
    norm = -(ms + ns).log()
    log_mu = torch.cat([norm.expand(m), ns.log()[None] + norm])[None].expand(n, -1)
    log_nu = torch.cat([norm.expand(s), ms.log()[None] + norm])[None].expand(n, -1)
    u = torch.zeros_like(log_mu)
    v = torch.zeros_like(log_nu)
    for _ in range(iters):
        u = log_mu - torch.logsumexp(couplings + v[:, None, :], dim=2)
        v = log_nu - torch.logsumexp(couplings + u[:, :, None], dim=1)
    return couplings + u[:, :, None] + v[:, None, :] - norm


def _valid_extent(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Valid rows and columns per sample of a (N, h, w) padding mask (the official reading)."""
    m = mask.to(torch.int64)
    return m.sum(1).amax(-1), m.sum(2).amax(-1)


def _keep_off_border(
    n: int, h: int, w: int, border: int, device: torch.device, mask: torch.Tensor | None
) -> torch.Tensor:
    """(N, h*w) bool: cells at least ``border`` cells inside the image (inside its valid area if padded)."""
    rows = torch.arange(h, device=device)[None, :, None]
    cols = torch.arange(w, device=device)[None, None, :]
    if border <= 0:
        return torch.ones(n, h * w, dtype=torch.bool, device=device)
    if mask is None:
        h_end = torch.full((n, 1, 1), h, device=device)
        w_end = torch.full((n, 1, 1), w, device=device)
    else:
        valid_h, valid_w = _valid_extent(mask)
        h_end, w_end = valid_h.view(-1, 1, 1), valid_w.view(-1, 1, 1)
    keep = (rows >= border) & (cols >= border) & (rows < h_end - border) & (cols < w_end - border)
    return keep.expand(n, h, w).reshape(n, h * w)


class CoarseMatching(nn.Module):
    """Confidence matrix and coarse matches (mutual nearest neighbours above a threshold, off the border)."""

    def __init__(self, config: CoarseMatchingConfig) -> None:
        super().__init__()
        self.config = config
        if config.match_type == "sinkhorn":
            self.bin_score = nn.Parameter(torch.tensor(float(config.skh_init_bin_score)))

    def forward(
        self,
        feat_c0: torch.Tensor,
        feat_c1: torch.Tensor,
        data: dict[str, Any],
        mask_c0: torch.Tensor | None = None,
        mask_c1: torch.Tensor | None = None,
    ) -> None:
        """Fill ``data`` with the confidence matrix and the coarse matches.

        ==================  ==============  ==========================================
        key / argument      shape           meaning
        ==================  ==============  ==========================================
        feat_c0, feat_c1    (N, L|S, C)     transformed coarse tokens
        mask_c0, mask_c1    (N, L|S) bool   False at padded cells (optional)
        data in             hw0_c, hw1_c    coarse map sizes; stride_c; optional
                                            scale0/scale1 (N, 2), spv_b/i/j_ids
        conf_matrix         (N, L, S)       match probabilities
        conf_matrix_with_   (N, L+1, S+1)   Sinkhorn assignment with dustbins
        bin                                 (sinkhorn and sparse_spvs only)
        b_ids, i_ids,       (M',)           coarse matches (training: predictions
        j_ids                               subsampled, ground truth padded in)
        gt_mask             (M',) bool      True for padded ground-truth matches
        m_bids              (M,)            batch index of predicted matches
        mkpts0_c, mkpts1_c  (M, 2)          their coarse cells in pixels (x, y)
        mconf               (M,)            their confidence
        ==================  ==============  ==========================================
        """
        cfg = self.config
        n, length, c = feat_c0.shape
        s = feat_c1.shape[1]
        invalid = None
        if mask_c0 is not None or mask_c1 is not None:
            m0 = mask_c0 if mask_c0 is not None else feat_c0.new_ones(n, length, dtype=torch.bool)
            m1 = mask_c1 if mask_c1 is not None else feat_c1.new_ones(n, s, dtype=torch.bool)
            invalid = ~(m0[:, :, None] & m1[:, None, :])

        if cfg.match_type == "dual_softmax":
            # the official scaling: both features / sqrt(C), then / temperature
            sim = (feat_c0 * (1.0 / (c * cfg.dsmax_temperature))) @ feat_c1.transpose(1, 2)
            if invalid is not None:
                sim = sim.masked_fill(invalid, _masked_value(sim.dtype))
            conf = self._dual_softmax(sim)
        else:
            sim = (feat_c0 * (1.0 / c)) @ feat_c1.transpose(1, 2)
            if invalid is not None:
                sim = sim.masked_fill(invalid, _masked_value(sim.dtype))
            assign = log_optimal_transport(sim, self.bin_score, cfg.skh_iters).exp()
            conf = assign[:, :-1, :-1]
            if not self.training and cfg.skh_prefilter:
                to_bin0 = (assign.argmax(dim=2) == s)[:, :-1]  # (N, L) rows best matched to the dustbin
                to_bin1 = (assign.argmax(dim=1) == length)[:, :-1]  # (N, S)
                conf = conf.masked_fill(to_bin0[:, :, None] | to_bin1[:, None, :], 0.0)
            if cfg.sparse_spvs:
                data["conf_matrix_with_bin"] = assign
        if invalid is not None:
            conf = conf.masked_fill(invalid, 0.0)
        data["conf_matrix"] = conf
        data.update(self.get_coarse_match(conf, data, mask_c0, mask_c1))

    def _dual_softmax(self, sim: torch.Tensor) -> torch.Tensor:
        if sim.requires_grad or sim.dtype == torch.float16:
            return sim.softmax(1) * sim.softmax(2)
        # Inference: in place, two (L, S) matrices alive instead of four; column softmax as contiguous
        # passes (PyTorch's dim-1 softmax kernel is slow on these shapes).
        conf = sim.softmax(2)
        col = sim.sub_(sim.amax(dim=1, keepdim=True)).exp_()
        return conf.mul_(col.div_(col.sum(dim=1, keepdim=True)))

    @torch.no_grad()
    def get_coarse_match(
        self,
        conf: torch.Tensor,
        data: dict[str, Any],
        mask_c0: torch.Tensor | None = None,
        mask_c1: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Mutual nearest neighbours of ``conf`` (N, L, S) above ``thr`` and off the border; see forward."""
        cfg = self.config
        n = conf.shape[0]
        (h0, w0), (h1, w1) = data["hw0_c"], data["hw1_c"]
        device = conf.device
        pad0 = None if mask_c0 is None else mask_c0.view(n, h0, w0)
        pad1 = None if mask_c1 is None else mask_c1.view(n, h1, w1)
        keep0 = _keep_off_border(n, h0, w0, cfg.border_rm, device, pad0 if pad1 is not None else None)
        keep1 = _keep_off_border(n, h1, w1, cfg.border_rm, device, pad1 if pad0 is not None else None)
        # Row maxima and their (first) column; a match when that column's maximum is the same value.
        row_max, j_all = conf.max(dim=2)
        col_max = conf.amax(dim=1)
        valid = (
            (row_max > cfg.thr) & (torch.gather(col_max, 1, j_all) == row_max) & keep0 & torch.gather(keep1, 1, j_all)
        )
        b_ids, i_ids = torch.where(valid)
        j_ids = j_all[b_ids, i_ids]
        mconf = row_max[b_ids, i_ids]

        if self.training:
            b_ids, i_ids, j_ids, mconf = self._pad_ground_truth(conf, data, pad0, pad1, b_ids, i_ids, j_ids, mconf)

        scale = float(data["stride_c"])
        coord_dtype = torch.promote_types(conf.dtype, torch.float32)
        scale0 = scale * data["scale0"][b_ids].to(coord_dtype) if "scale0" in data else scale
        scale1 = scale * data["scale1"][b_ids].to(coord_dtype) if "scale1" in data else scale
        mkpts0_c = torch.stack([i_ids % w0, i_ids // w0], dim=1).to(coord_dtype) * scale0
        mkpts1_c = torch.stack([j_ids % w1, j_ids // w1], dim=1).to(coord_dtype) * scale1
        predicted = mconf != 0  # zero confidence marks padded ground truth
        return {
            "b_ids": b_ids,
            "i_ids": i_ids,
            "j_ids": j_ids,
            "gt_mask": ~predicted,
            "m_bids": b_ids[predicted],
            "mkpts0_c": mkpts0_c[predicted],
            "mkpts1_c": mkpts1_c[predicted],
            "mconf": mconf[predicted],
        }

    def _pad_ground_truth(
        self,
        conf: torch.Tensor,
        data: dict[str, Any],
        pad0: torch.Tensor | None,
        pad1: torch.Tensor | None,
        b_ids: torch.Tensor,
        i_ids: torch.Tensor,
        j_ids: torch.Tensor,
        mconf: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training: subsample predictions and pad with ground-truth matches (official sampling)."""
        cfg = self.config
        for key in ("spv_b_ids", "spv_i_ids", "spv_j_ids"):
            if key not in data:
                msg = f"training needs the ground-truth coarse matches {key!r} in the input (or call .eval())"
                raise KeyError(msg)
        device = conf.device
        if pad0 is None or pad1 is None:
            num_max = conf.shape[0] * max(conf.shape[1], conf.shape[2])
        else:
            h0, w0 = _valid_extent(pad0)
            h1, w1 = _valid_extent(pad1)
            num_max = int(torch.minimum(h0 * w0, h1 * w1).sum())
        num_train = int(num_max * cfg.train_coarse_percent)
        num_pred = len(b_ids)
        if cfg.train_pad_num_gt_min >= num_train:
            msg = (
                f"train_pad_num_gt_min={cfg.train_pad_num_gt_min} must be below the training matches "
                f"{num_train} (train_coarse_percent={cfg.train_coarse_percent} of {num_max} candidates)"
            )
            raise ValueError(msg)
        if num_pred <= num_train - cfg.train_pad_num_gt_min:
            pred_idx = torch.arange(num_pred, device=device)
        else:
            pred_idx = torch.randint(num_pred, (num_train - cfg.train_pad_num_gt_min,), device=device)
        num_gt = len(data["spv_b_ids"])
        if num_gt == 0:
            logger.warning("no ground-truth coarse match to pad the fine-level training samples with")
            return b_ids[pred_idx], i_ids[pred_idx], j_ids[pred_idx], mconf[pred_idx]
        gt_idx = torch.randint(num_gt, (max(num_train - num_pred, cfg.train_pad_num_gt_min),), device=device)
        gt_conf = torch.zeros(num_gt, device=device, dtype=mconf.dtype)
        return tuple(  # type: ignore[return-value]
            torch.cat([pred[pred_idx], gt[gt_idx]])
            for pred, gt in zip(
                (b_ids, i_ids, j_ids, mconf),
                (data["spv_b_ids"], data["spv_i_ids"], data["spv_j_ids"], gt_conf),
                strict=True,
            )
        )
