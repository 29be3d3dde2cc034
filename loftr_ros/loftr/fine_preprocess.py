"""Fine preprocessing: crop a window of fine (1/2) features around every coarse match.

The window of coarse cell (x, y) is centred on fine cell (4x, 4y); with ``concat_coarse_feat`` every window
token is merged with the transformed coarse feature of its match (official ``down_proj``/``merge_feat``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from loftr_ros.loftr.config import FinePreprocessConfig


def gather_windows(
    feat: torch.Tensor,
    b_ids: torch.Tensor,
    cell_ids: torch.Tensor,
    coarse_width: int,
    window: int,
    stride: int,
) -> torch.Tensor:
    """Windows of ``feat`` (B, C, Hf, Wf) around coarse cells ``cell_ids`` (M,) -> (M, window**2, C).

    Equals unfolding the whole map (``F.unfold`` with ``padding=window // 2``) and indexing it, without
    building the unfolded map (``window**2`` times the map). A map with batch 1 serves every ``b_ids``.
    """
    pad = window // 2
    padded = F.pad(feat, (pad, pad, pad, pad))
    offsets = torch.arange(window, device=cell_ids.device)
    rows = ((cell_ids // coarse_width) * stride)[:, None] + offsets  # (M, window)
    cols = ((cell_ids % coarse_width) * stride)[:, None] + offsets
    b = b_ids if feat.shape[0] > 1 else torch.zeros_like(b_ids)
    windows = padded[b[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (M, window, window, C)
    return windows.reshape(cell_ids.shape[0], window * window, feat.shape[1])


class FinePreprocess(nn.Module):
    """Fine windows of both images for the matched coarse cells, merged with the coarse context."""

    def __init__(self, config: FinePreprocessConfig, d_model_c: int, d_model_f: int) -> None:
        super().__init__()
        self.window = config.window_size
        self.concat_coarse = config.concat_coarse_feat
        self.d_model_f = d_model_f
        if self.concat_coarse:
            self.down_proj = nn.Linear(d_model_c, d_model_f, bias=True)
            self.merge_feat = nn.Linear(2 * d_model_f, d_model_f, bias=True)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.kaiming_normal_(p, mode="fan_out", nonlinearity="relu")

    def forward(
        self,
        feat_f0: torch.Tensor,
        feat_f1: torch.Tensor,
        feat_c0: torch.Tensor,
        feat_c1: torch.Tensor,
        b_ids: torch.Tensor,
        i_ids: torch.Tensor,
        j_ids: torch.Tensor,
        coarse_widths: tuple[int, int],
        stride: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows of the M coarse matches.

        ================  =============  =============================================
        name              shape          meaning
        ================  =============  =============================================
        feat_f0, feat_f1  (B, Cf, h, w)  fine maps (batch 1 is shared by all b_ids)
        feat_c0, feat_c1  (B, L|S, Cc)   transformed coarse tokens
        b_ids, i_ids,     (M,)           coarse matches
        j_ids
        coarse_widths     2 ints         coarse map widths of image 0 and 1
        stride            int            fine cells per coarse cell (4)
        out               2 x (M, W*W, Cf)  window tokens, row-major in the window
        ================  =============  =============================================
        """
        ww = self.window * self.window
        if b_ids.shape[0] == 0:
            empty = feat_f0.new_empty(0, ww, self.d_model_f)
            return empty, empty.clone()
        win0 = gather_windows(feat_f0, b_ids, i_ids, coarse_widths[0], self.window, stride)
        win1 = gather_windows(feat_f1, b_ids, j_ids, coarse_widths[1], self.window, stride)
        if not self.concat_coarse:
            return win0, win1
        # merge_feat(cat(window token, coarse)) split in two products: the coarse half is the same for all
        # window tokens of a match, so it is computed once per match instead of W*W times.
        cf = self.d_model_f
        coarse = self.down_proj(torch.cat([feat_c0[b_ids, i_ids], feat_c1[b_ids, j_ids]]))  # (2M, Cf)
        w_fine, w_coarse = self.merge_feat.weight[:, :cf], self.merge_feat.weight[:, cf:]
        context = F.linear(coarse, w_coarse, self.merge_feat.bias)  # (2M, Cf)
        merged = F.linear(torch.cat([win0, win1]), w_fine) + context[:, None, :]
        m = b_ids.shape[0]
        return merged[:m], merged[m:]
