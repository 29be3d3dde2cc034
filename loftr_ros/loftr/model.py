"""The LoFTR network: backbone, coarse transformer and matching, fine preprocessing, transformer, matching."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from loftr_ros.loftr.backbone import ResNetFPN_8_2
from loftr_ros.loftr.coarse_matching import CoarseMatching
from loftr_ros.loftr.config import LoFTRConfig
from loftr_ros.loftr.fine_matching import FineMatching
from loftr_ros.loftr.fine_preprocess import FinePreprocess
from loftr_ros.loftr.position_encoding import PositionEncodingSine
from loftr_ros.loftr.transformer import LocalFeatureTransformer


class LoFTR(nn.Module):
    """Detector-free matching (Sun et al., CVPR 2021), state_dict-compatible with the official code.

    ``forward(data)`` reads and fills a dict, as the official implementation does, so the official
    supervision and losses work on it. Images are grayscale in [0, 1]; any size (sizes that are not
    multiples of 8 are handled as kornia does). Keypoints are (x, y) pixels of the network input with
    coarse cell (x, y) on pixel (8x, 8y): pixel centres at integer coordinates, (0, 0) the top-left one.

    Inputs (image or features per side; the features are :meth:`extract_features`' output):

    ==============  ======================  ================================================
    key             shape                   meaning
    ==============  ======================  ================================================
    image0/1        (N, 1, H, W)            grayscale images in [0, 1]
    features0/1     ((N, Cc, h, w),         backbone maps of an image (before positional
                    (N, Cf, 4h', 4w'))      encoding); batch 1 on side 0 with batch N on
                                            side 1 = one query against N keyframes
    mask0/1         (N, H, W) or (N, h, w)  optional, False at padding (image or coarse size)
    scale0/1        (N, 2)                  optional, pixel scale of each image (training)
    spv_b_ids,      (G,)                    training only: ground-truth coarse matches,
    spv_i_ids,                              padded into the fine-level samples
    spv_j_ids                               (train_coarse_percent, train_pad_num_gt_min)
    ==============  ======================  ================================================

    Outputs (added to the dict, which is also returned):

    ====================  ==============  ==============================================
    key                   shape           meaning
    ====================  ==============  ==============================================
    bs                    int             pairs in the batch
    hw0_c, hw1_c          2 ints          coarse map sizes (hw0_f, hw1_f: fine; hw0_i,
                                          hw1_i: image, when images were given)
    conf_matrix           (N, L, S)       coarse match probabilities (coarse loss)
    conf_matrix_with_bin  (N, L+1, S+1)   Sinkhorn matrix with dustbins (sinkhorn)
    b_ids, i_ids, j_ids   (M',)           coarse matches fed to the fine level
    gt_mask               (M',) bool      which of them are padded ground truth
    expec_f               (M', 3)         fine expectation x, y in [-1, 1] and std
                                          (fine loss)
    m_bids                (M,)            batch index of each predicted match
    mkpts0_c, mkpts1_c    (M, 2)          coarse match positions, pixels
    mkpts0_f, mkpts1_f    (M, 2)          refined match positions, pixels
    mconf                 (M,)            coarse confidence of each match
    ====================  ==============  ==============================================
    """

    def __init__(self, config: LoFTRConfig | None = None) -> None:
        super().__init__()
        config = LoFTRConfig() if config is None else config
        config.validate()
        self.config = config
        self.backbone = ResNetFPN_8_2(config.backbone)
        self.pos_encoding = PositionEncodingSine(config.coarse.d_model, temp_bug_fix=config.coarse.temp_bug_fix)
        self.loftr_coarse = LocalFeatureTransformer(config.coarse)
        self.coarse_matching = CoarseMatching(config.match_coarse)
        self.fine_preprocess = FinePreprocess(config.fine_preprocess, config.coarse.d_model, config.fine.d_model)
        self.loftr_fine = LocalFeatureTransformer(config.fine)
        self.fine_matching = FineMatching()

    def extract_features(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Backbone maps of (N, 1, H, W) images: coarse (N, Cc, ceil(H/8), ..), fine (N, Cf, ceil(H/2), ..).

        They do not depend on the other image: compute them once per keyframe and pass them back as
        ``features1``. With the default config they cost 4 * (256 * H*W/64 + 128 * H*W/4) bytes in
        float32, about 44 MB for 640 x 480 (the fine map is 89% of it).
        """
        return self.backbone(image)

    def _side_features(self, data: dict[str, Any]) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        for side in (0, 1):
            if (f"image{side}" in data) == (f"features{side}" in data):
                msg = f"pass exactly one of 'image{side}' and 'features{side}'"
                raise KeyError(msg)
            if f"image{side}" in data:
                data[f"hw{side}_i"] = tuple(data[f"image{side}"].shape[2:])
        if "image0" in data and "image1" in data and data["image0"].shape == data["image1"].shape:
            n = data["image0"].shape[0]
            coarse, fine = self.extract_features(torch.cat([data["image0"], data["image1"]]))
            return (coarse[:n], fine[:n]), (coarse[n:], fine[n:])
        sides = []
        for side in (0, 1):
            features = data.get(f"features{side}")
            sides.append(tuple(features) if features is not None else self.extract_features(data[f"image{side}"]))
        return sides[0], sides[1]

    def forward(self, data: dict[str, Any]) -> dict[str, Any]:
        """Match the pair(s) in ``data``; see the class docstring for the keys read and written."""
        stride_c, stride_f = self.config.resolution
        (feat_c0, feat_f0), (feat_c1, feat_f1) = self._side_features(data)
        n0, n1 = feat_c0.shape[0], feat_c1.shape[0]
        if n0 != n1 and n0 != 1:
            msg = f"batch sizes {n0} and {n1} differ; only side 0 may have batch 1 (one query, many keyframes)"
            raise ValueError(msg)
        data.update(
            bs=n1,
            stride_c=stride_c,
            stride_f=stride_f,
            hw0_c=tuple(feat_c0.shape[2:]),
            hw1_c=tuple(feat_c1.shape[2:]),
            hw0_f=tuple(feat_f0.shape[2:]),
            hw1_f=tuple(feat_f1.shape[2:]),
        )
        mask_c0 = self._coarse_mask(data.get("mask0"), data["hw0_c"], stride_c)
        mask_c1 = self._coarse_mask(data.get("mask1"), data["hw1_c"], stride_c)

        # 1. coarse transformer on position-encoded tokens, token-major (N, h*w, C)
        tokens0 = self.pos_encoding(feat_c0).flatten(2).transpose(1, 2).contiguous()
        tokens1 = self.pos_encoding(feat_c1).flatten(2).transpose(1, 2).contiguous()
        tokens0, tokens1 = self.loftr_coarse(tokens0, tokens1, mask_c0, mask_c1)
        if mask_c0 is not None and mask_c0.shape[0] != tokens0.shape[0]:
            mask_c0 = mask_c0.expand(tokens0.shape[0], -1)
        if "scale0" in data and data["scale0"].shape[0] != n1:
            data["scale0"] = data["scale0"].expand(n1, -1)

        # 2. coarse matches
        self.coarse_matching(tokens0, tokens1, data, mask_c0, mask_c1)

        # 3. fine windows around them, fine transformer, sub-pixel refinement
        win0, win1 = self.fine_preprocess(
            feat_f0,
            feat_f1,
            tokens0,
            tokens1,
            data["b_ids"],
            data["i_ids"],
            data["j_ids"],
            (data["hw0_c"][1], data["hw1_c"][1]),
            stride_c // stride_f,
        )
        if win0.shape[0] > 0:
            win0, win1 = self.loftr_fine(win0, win1)
        self.fine_matching(win0, win1, data)
        return data

    @staticmethod
    def _coarse_mask(mask: torch.Tensor | None, hw_c: tuple[int, int], stride: int) -> torch.Tensor | None:
        """(N, h*w) bool coarse mask from an image-size or coarse-size (N, H, W) mask; cell (x, y) reads pixel
        (stride x, stride y), the official nearest-neighbour downsampling."""
        if mask is None:
            return None
        if tuple(mask.shape[-2:]) != tuple(hw_c):
            mask = mask[..., ::stride, ::stride]
            if tuple(mask.shape[-2:]) != tuple(hw_c):
                msg = f"mask {tuple(mask.shape)} fits neither the image nor the {tuple(hw_c)} coarse map"
                raise ValueError(msg)
        return mask.reshape(mask.shape[0], -1).bool()
