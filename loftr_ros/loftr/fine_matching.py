"""Fine matching: sub-pixel position of each match in image 1 by spatial expectation over its window."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class FineMatching(nn.Module):
    """Correlate the centre token of window 0 with window 1; the expectation (and std) of the heatmap."""

    def forward(self, feat_f0: torch.Tensor, feat_f1: torch.Tensor, data: dict[str, Any]) -> None:
        """Fill ``data`` with the refined matches.

        ==========  ===========  =========================================================
        key         shape        meaning
        ==========  ===========  =========================================================
        feat_f0     (M, W*W, C)  transformed window tokens of image 0
        feat_f1     (M, W*W, C)  transformed window tokens of image 1
        data in     mkpts0_c, mkpts1_c, mconf, b_ids, stride_f, optional scale1 (N, 2)
        expec_f     (M, 3)       x, y in [-1, 1] of the window, and std (sum over x, y)
                                 of the heatmap: the official fine supervision target
        mkpts0_f    (M', 2)      = mkpts0_c, pixels of the network input
        mkpts1_f    (M', 2)      mkpts1_c + expectation * (W // 2) * stride_f
        ==========  ===========  =========================================================
        """
        m, ww, c = feat_f0.shape
        w = round(ww**0.5)
        if m == 0:
            if self.training:
                msg = "no coarse match to train the fine level on (training pads ground truth: see spv_*_ids)"
                raise ValueError(msg)
            data["expec_f"] = feat_f0.new_empty(0, 3)
            data["mkpts0_f"] = data["mkpts0_c"]
            data["mkpts1_f"] = data["mkpts1_c"]
            return
        centre = feat_f0[:, ww // 2, :]
        sim = (feat_f1 @ centre[:, :, None])[..., 0]  # (M, W*W)
        heatmap = (sim * (1.0 / c**0.5)).softmax(dim=1)
        line = torch.linspace(-1.0, 1.0, w, device=heatmap.device, dtype=heatmap.dtype)
        gx = line.repeat(w)  # x varies fastest: tokens are row-major in the window
        gy = line.repeat_interleave(w)
        grid = torch.stack([gx, gy], dim=1)  # (W*W, 2)
        coords = heatmap @ grid  # (M, 2)
        var = heatmap @ (grid * grid) - coords * coords
        std = var.clamp(min=1e-10).sqrt().sum(dim=1)
        data["expec_f"] = torch.cat([coords, std[:, None]], dim=1)

        scale = float(data["stride_f"])
        scale1 = scale * data["scale1"][data["b_ids"]] if "scale1" in data else scale
        num_pred = len(data["mconf"])  # predictions come first, padded ground truth after them
        offset = (coords.detach() * (w // 2) * scale1)[:num_pred]
        data["mkpts0_f"] = data["mkpts0_c"]
        data["mkpts1_f"] = data["mkpts1_c"] + offset
