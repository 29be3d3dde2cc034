"""LocalFeatureTransformer: interleaved self- and cross-attention layers over two token sets.

Two attention kinds: linear attention with the elu + 1 feature map ("Transformers are RNNs",
O(tokens)), the one every published LoFTR model uses, and full softmax attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from loftr_ros.loftr.config import TransformerConfig


def linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    q_mask: torch.Tensor | None = None,
    kv_mask: torch.Tensor | None = None,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Multi-head linear attention with phi(x) = elu(x) + 1.

    ======  ============  =========================================
    name    shape         meaning
    ======  ============  =========================================
    q       (N, L, H, D)  queries
    k       (N, S, H, D)  keys
    v       (N, S, H, D)  values
    q_mask  (N, L) bool   False for padded queries (output 0)
    kv_mask (N, S) bool   False for padded keys/values (ignored)
    out     (N, L, H, D)  phi(q) (phi(k)^T v) / (phi(q) sum phi(k))
    ======  ============  =========================================
    """
    s = k.shape[1]
    Q = F.elu(q) + 1
    K = F.elu(k) + 1
    if q_mask is not None:
        Q = Q * q_mask[:, :, None, None]
    if kv_mask is not None:
        K = K * kv_mask[:, :, None, None]
        v = v * kv_mask[:, :, None, None]
    # Per-head products only (H small GEMMs). kornia computes the dense (H*D)^2 block-diagonal product
    # instead: 8x the arithmetic, and slower on this CPU at 1 and 2 threads (profiled). The official
    # code divides v by S before the sum over S (fp16 range) and multiplies by S at the end; the
    # scaling is applied to the small (N, H, D, D) and (N, L, H) factors instead of (N, S|L, H, D).
    if v.dtype == torch.float16:
        KV = torch.einsum("nshd,nshv->nhdv", K, v / s)
    else:
        KV = torch.einsum("nshd,nshv->nhdv", K, v).div_(s)
    num = torch.einsum("nlhd,nhdv->nlhv", Q, KV)
    den = torch.einsum("nlhd,nhd->nlh", Q, K.sum(dim=1))
    if q_mask is not None:
        # padded queries have Q = 0 and give 0 anyway; avoid 1 / eps overflowing fp16 into 0 * inf = nan
        den = torch.where(q_mask[:, :, None], den, torch.ones_like(den))
    return num * (s / (den + eps))[..., None]


def full_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    q_mask: torch.Tensor | None = None,
    kv_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-head softmax attention, softmax(q k^T / sqrt(D)) v; shapes as :func:`linear_attention`.

    Only ``kv_mask`` takes effect: padded queries get ordinary (unused) values instead of the official
    code's NaN from an all -inf row. ``q_mask`` is accepted for a uniform signature.
    """
    del q_mask
    attn_mask = None if kv_mask is None else kv_mask[:, None, None, :]
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=attn_mask)
    return out.transpose(1, 2)


class LoFTREncoderLayer(nn.Module):
    """Attention of ``x`` to ``source`` (itself for self layers), merge, then a 2*d_model MLP; residual."""

    def __init__(self, d_model: int, nhead: int, attention: str = "linear") -> None:
        super().__init__()
        self.nhead = nhead
        self.dim = d_model // nhead
        self.attention_type = attention
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.merge = nn.Linear(d_model, d_model, bias=False)
        self.mlp = nn.Sequential(
            nn.Linear(d_model * 2, d_model * 2, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(d_model * 2, d_model, bias=False),
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def self_attend(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Self attention of (N, L, C) tokens, mask (N, L) bool."""
        return self(x, x, mask, mask)

    def forward(
        self,
        x: torch.Tensor,
        source: torch.Tensor,
        x_mask: torch.Tensor | None = None,
        source_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(N, L, C) tokens attending to (N, S, C) tokens -> (N, L, C); masks (N, L) / (N, S) bool."""
        n, length, c = x.shape
        heads, dim = self.nhead, self.dim
        if source is x:  # self attention: one GEMM for q, k and v
            w = torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight])
            q, k, v = F.linear(x, w).split(c, dim=2)
        else:
            q = self.q_proj(x)
            k, v = F.linear(source, torch.cat([self.k_proj.weight, self.v_proj.weight])).split(c, dim=2)
        q = q.reshape(n, length, heads, dim)
        k = k.reshape(n, -1, heads, dim)
        v = v.reshape(n, -1, heads, dim)
        attend = linear_attention if self.attention_type == "linear" else full_attention
        message = attend(q, k, v, x_mask, source_mask).reshape(n, length, c)
        message = self.norm1(self.merge(message))
        message = self.norm2(self.mlp(torch.cat([x, message], dim=2)))
        return x + message


class LocalFeatureTransformer(nn.Module):
    """The stack of encoder layers named by ``config.layer_names`` ('self' / 'cross')."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.d_model = config.d_model
        self.layer_names = tuple(config.layer_names)
        self.layers = nn.ModuleList(
            LoFTREncoderLayer(config.d_model, config.nhead, config.attention) for _ in self.layer_names
        )
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(
        self,
        feat0: torch.Tensor,
        feat1: torch.Tensor,
        mask0: torch.Tensor | None = None,
        mask1: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Transform both token sets.

        =======  ==========  ===================================================
        name     shape       meaning
        =======  ==========  ===================================================
        feat0    (N0, L, C)  tokens of image 0; N0 = 1 is broadcast to N1 (one
                             query against N1 keyframes: its leading self layers
                             run once)
        feat1    (N1, S, C)  tokens of image 1
        mask0    (N0, L)     bool, False at padded tokens (optional)
        mask1    (N1, S)     bool, False at padded tokens (optional)
        out      2 x (N, ., C), N = max(N0, N1)
        =======  ==========  ===================================================
        """
        if feat0.shape[2] != self.d_model or feat1.shape[2] != self.d_model:
            msg = f"tokens have {feat0.shape[2]}/{feat1.shape[2]} channels, the transformer {self.d_model}"
            raise ValueError(msg)
        for layer, name in zip(self.layers, self.layer_names, strict=True):
            if name == "self" and feat0.shape[1] == feat1.shape[1]:
                # both images in one batch: the same arithmetic in half the calls
                n0 = feat0.shape[0]
                both = layer.self_attend(torch.cat([feat0, feat1]), _cat_masks(mask0, mask1, feat0, feat1))
                feat0, feat1 = both[:n0], both[n0:]
            elif name == "self":
                feat0 = layer(feat0, feat0, mask0, mask0)
                feat1 = layer(feat1, feat1, mask1, mask1)
            else:
                if feat0.shape[0] != feat1.shape[0]:
                    feat0, feat1, mask0, mask1 = _broadcast_batch(feat0, feat1, mask0, mask1)
                # sequential, as the official code: image 1 attends to the updated image-0 tokens
                feat0 = layer(feat0, feat1, mask0, mask1)
                feat1 = layer(feat1, feat0, mask1, mask0)
        if feat0.shape[0] != feat1.shape[0]:
            feat0, feat1, mask0, mask1 = _broadcast_batch(feat0, feat1, mask0, mask1)
        return feat0, feat1


def _cat_masks(
    mask0: torch.Tensor | None, mask1: torch.Tensor | None, feat0: torch.Tensor, feat1: torch.Tensor
) -> torch.Tensor | None:
    if mask0 is None and mask1 is None:
        return None
    if mask0 is None:
        mask0 = torch.ones(feat0.shape[:2], dtype=torch.bool, device=feat0.device)
    if mask1 is None:
        mask1 = torch.ones(feat1.shape[:2], dtype=torch.bool, device=feat1.device)
    return torch.cat([mask0.expand(feat0.shape[0], -1), mask1.expand(feat1.shape[0], -1)])


def _broadcast_batch(
    feat0: torch.Tensor, feat1: torch.Tensor, mask0: torch.Tensor | None, mask1: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    n = max(feat0.shape[0], feat1.shape[0])
    feat0 = feat0.expand(n, -1, -1).contiguous()
    feat1 = feat1.expand(n, -1, -1).contiguous()
    mask0 = None if mask0 is None else mask0.expand(n, -1)
    mask1 = None if mask1 is None else mask1.expand(n, -1)
    return feat0, feat1, mask0, mask1
