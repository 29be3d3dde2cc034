"""Ground-truth coarse and fine matches for LoFTR (paper section 3.5, official ``supervision.py``).

Coarse level: the reference pixel of coarse cell (r, c) is ``(scale * c, scale * r)`` in the
image (scale 8), the convention of the official coarse matching (``mkpts_c = ids * scale``) and of
the fine windows, which are centred there. Each cell of image 0 is warped into image 1 (by depth and
``T_0to1``, or by ``H_0to1`` for homographic pairs), rounded to the nearest cell, and kept when the
reverse warp of that cell lands back in the same cell of image 0 (mutual nearest neighbours).

Differences from the official code, on purpose:
- the validity of each warp is used (known depth, in front of the camera, inside the image, depth
  consistent within ``depth_consistency_thr``); the official code computes it in ``warp_kpts`` but
  drops it, and then has to ignore cell 0 where invalid points land. Here occluded points are
  rejected, and cell 0 is an ordinary cell;
- ``spv_w_pt0_i`` is NaN where the warp is invalid, so the fine loss drops those matches
  (``NaN < correct_thr`` is False, in the official loss too).
- images and depth maps are at the same resolution (no ``scale0`` / ``scale1`` resizing keys).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic.geometry import warp_points_depth, warp_points_homography

logger = logging.getLogger("loftr_ros.training")


@dataclass(frozen=True)
class SupervisionConfig:
    """Geometry of the ground truth; the defaults are the official LoFTR (8, 2) model's."""

    coarse_scale: int = 8  # image pixels per coarse cell (official LOFTR.RESOLUTION[0])
    fine_scale: int = 2  # image pixels per fine-level pixel (official LOFTR.RESOLUTION[1])
    fine_window_size: int = 5  # fine window side at the fine level, odd (official LOFTR.FINE_WINDOW_SIZE)
    depth_consistency_thr: float = 0.2  # max relative depth error of a warped point (official warp_kpts)

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        if self.coarse_scale < 1 or self.fine_scale < 1 or self.coarse_scale % self.fine_scale != 0:
            msg = (
                f"SupervisionConfig needs coarse_scale a positive multiple of fine_scale, "
                f"got {self.coarse_scale} and {self.fine_scale}"
            )
            raise ConfigError(msg)
        if self.fine_window_size < 1 or self.fine_window_size % 2 == 0:
            msg = f"SupervisionConfig.fine_window_size must be odd and positive, got {self.fine_window_size}"
            raise ConfigError(msg)
        if self.depth_consistency_thr <= 0:
            msg = f"SupervisionConfig.depth_consistency_thr must be > 0, got {self.depth_consistency_thr}"
            raise ConfigError(msg)


def coarse_grid(h_c: int, w_c: int, scale: int, batch: int, device: torch.device | None = None) -> torch.Tensor:
    """(batch, h_c * w_c, 2) image pixels (x, y) of the coarse cells, row-major: index = r * w_c + c."""
    ys, xs = torch.meshgrid(
        torch.arange(h_c, device=device, dtype=torch.float32),
        torch.arange(w_c, device=device, dtype=torch.float32),
        indexing="ij",
    )
    grid = torch.stack([xs, ys], dim=-1).reshape(1, h_c * w_c, 2) * scale
    return grid.expand(batch, -1, -1).contiguous()


def _nearest_cell(w_pts: torch.Tensor, valid: torch.Tensor, h_c: int, w_c: int, scale: int) -> torch.Tensor:
    """(B, N) int64 index of the coarse cell nearest to each warped point, -1 where invalid or outside."""
    cell = torch.nan_to_num(w_pts / scale, nan=-1e9, posinf=-1e9, neginf=-1e9).round().long()
    inside = (cell[..., 0] >= 0) & (cell[..., 0] < w_c) & (cell[..., 1] >= 0) & (cell[..., 1] < h_c)
    index = cell[..., 1] * w_c + cell[..., 0]
    return torch.where(valid & inside, index, torch.full_like(index, -1))


def mutual_coarse_matches(
    nearest1: torch.Tensor, nearest0: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mutual nearest-cell pairs from both warp directions.

    Args:
        nearest1: (B, L0) cell of image 1 each cell of image 0 lands in, -1 if none.
        nearest0: (B, L1) cell of image 0 each cell of image 1 lands in, -1 if none.

    Returns:
        b_ids, i_ids, j_ids: (M,) int64, the pairs (i in image 0, j in image 1) that agree.
    """
    loop_back = nearest0.gather(1, nearest1.clamp(min=0))
    arange = torch.arange(nearest1.shape[1], device=nearest1.device)[None]
    correct = (nearest1 >= 0) & (loop_back == arange)
    b_ids, i_ids = torch.nonzero(correct, as_tuple=True)
    return b_ids, i_ids, nearest1[b_ids, i_ids]


def coarse_supervision_from_warps(
    valid0: torch.Tensor,
    w_pt0_i: torch.Tensor,
    valid1: torch.Tensor,
    w_pt1_i: torch.Tensor,
    hw0_c: tuple[int, int],
    hw1_c: tuple[int, int],
    scale: int,
) -> dict[str, torch.Tensor]:
    """Coarse ground truth from both images' warped cell grids; see :func:`compute_supervision_coarse`."""
    (h0, w0), (h1, w1) = hw0_c, hw1_c
    nearest1 = _nearest_cell(w_pt0_i, valid0, h1, w1, scale)
    nearest0 = _nearest_cell(w_pt1_i, valid1, h0, w0, scale)
    b_ids, i_ids, j_ids = mutual_coarse_matches(nearest1, nearest0)
    batch = valid0.shape[0]
    conf_matrix_gt = torch.zeros(batch, h0 * w0, h1 * w1, device=valid0.device)
    conf_matrix_gt[b_ids, i_ids, j_ids] = 1.0
    nan = torch.full_like(w_pt0_i, float("nan"))
    return {
        "conf_matrix_gt": conf_matrix_gt,
        "spv_b_ids": b_ids,
        "spv_i_ids": i_ids,
        "spv_j_ids": j_ids,
        "spv_w_pt0_i": torch.where(valid0[..., None], w_pt0_i, nan),
    }


def _is_homography(data: dict, batch: int, device: torch.device) -> torch.Tensor:
    if "H_0to1" not in data:
        return torch.zeros(batch, dtype=torch.bool, device=device)
    if "is_homography" in data:
        return torch.as_tensor(data["is_homography"], device=device).bool().reshape(batch)
    return torch.ones(batch, dtype=torch.bool, device=device)


@torch.no_grad()
def compute_supervision_coarse(data: dict, config: SupervisionConfig | None = None) -> None:
    """Add the coarse ground truth to a LoFTR data dict, in place.

    Reads ``image0``, ``image1`` (B, 1, H, W) for the sizes, then per sample either ``depth0``,
    ``depth1`` (B, H, W), ``K0``, ``K1`` (B, 3, 3), ``T_0to1`` (B, 4, 4) (``T_1to0`` too if given,
    else its inverse), or ``H_0to1`` (B, 3, 3) where ``is_homography`` (B,) is True (all samples
    when ``H_0to1`` is given without it).

    Adds ``conf_matrix_gt`` (B, L0, L1) float 0/1; ``spv_b_ids``, ``spv_i_ids``, ``spv_j_ids`` (M,)
    int64; ``spv_w_pt0_i`` (B, L0, 2) cells of image 0 warped into image 1, image pixels, NaN where
    unknown; ``spv_pt1_i`` (B, L1, 2) image pixels of the cells of image 1.
    """
    config = SupervisionConfig() if config is None else config
    config.validate()
    image0, image1 = data["image0"], data["image1"]
    device = image0.device
    batch, _, H0, W0 = image0.shape
    _, _, H1, W1 = image1.shape
    s = config.coarse_scale
    h0, w0, h1, w1 = H0 // s, W0 // s, H1 // s, W1 // s
    grid0 = coarse_grid(h0, w0, s, batch, device)
    grid1 = coarse_grid(h1, w1, s, batch, device)
    homography = _is_homography(data, batch, device)

    valid0 = torch.zeros(batch, h0 * w0, dtype=torch.bool, device=device)
    valid1 = torch.zeros(batch, h1 * w1, dtype=torch.bool, device=device)
    w_pt0 = torch.zeros_like(grid0)
    w_pt1 = torch.zeros_like(grid1)
    if bool((~homography).any()):
        thr = config.depth_consistency_thr
        T_1to0 = data["T_1to0"] if "T_1to0" in data else torch.linalg.inv(data["T_0to1"])
        v0, p0 = warp_points_depth(grid0, data["depth0"], data["depth1"], data["T_0to1"], data["K0"], data["K1"], thr)
        v1, p1 = warp_points_depth(grid1, data["depth1"], data["depth0"], T_1to0, data["K1"], data["K0"], thr)
        sel = ~homography
        valid0[sel], w_pt0[sel], valid1[sel], w_pt1[sel] = v0[sel], p0[sel], v1[sel], p1[sel]
    if bool(homography.any()):
        H = data["H_0to1"].to(torch.float64)
        sel = homography
        v0, p0 = warp_points_homography(grid0[sel], H[sel], (H1, W1))
        v1, p1 = warp_points_homography(grid1[sel], torch.linalg.inv(H[sel]), (H0, W0))
        valid0[sel], w_pt0[sel], valid1[sel], w_pt1[sel] = v0, p0, v1, p1

    out = coarse_supervision_from_warps(valid0, w_pt0, valid1, w_pt1, (h0, w0), (h1, w1), s)
    if out["spv_b_ids"].numel() == 0:
        logger.warning("no ground-truth coarse match in this batch: %s", data.get("pair_names", "(unnamed)"))
    out["spv_pt1_i"] = grid1
    data.update(out)


def fine_targets(
    w_pt0_i: torch.Tensor,
    pt1_i: torch.Tensor,
    b_ids: torch.Tensor,
    i_ids: torch.Tensor,
    j_ids: torch.Tensor,
    fine_scale: int = 2,
    fine_window_size: int = 5,
) -> torch.Tensor:
    """(M, 2) offset of the true match from the window centre, in window radii (official ``spvs_fine``).

    ``(w_pt0_i[b, i] - pt1_i[b, j]) / fine_scale / (fine_window_size // 2)``: inside the fine window
    when both components are within [-1, 1]; NaN where the warp of cell i is unknown.
    """
    radius = fine_window_size // 2
    return (w_pt0_i[b_ids, i_ids] - pt1_i[b_ids, j_ids]) / fine_scale / radius


@torch.no_grad()
def compute_supervision_fine(data: dict, config: SupervisionConfig | None = None) -> None:
    """Add ``expec_f_gt`` (M, 2) for the coarse matches the model refined (``b_ids``, ``i_ids``, ``j_ids``).

    Needs :func:`compute_supervision_coarse` to have run on ``data`` first.
    """
    config = SupervisionConfig() if config is None else config
    config.validate()
    for key in ("spv_w_pt0_i", "spv_pt1_i", "b_ids", "i_ids", "j_ids"):
        if key not in data:
            msg = f"supervision_fine needs data[{key!r}]: run compute_supervision_coarse, then the model"
            raise ConfigError(msg)
    data["expec_f_gt"] = fine_targets(
        data["spv_w_pt0_i"],
        data["spv_pt1_i"],
        data["b_ids"],
        data["i_ids"],
        data["j_ids"],
        config.fine_scale,
        config.fine_window_size,
    )
