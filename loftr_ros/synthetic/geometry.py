"""Warping pixels from one view into another, by depth and relative pose or by a homography.

Pixels are (x, y) with (0, 0) at the centre of the top-left pixel; depth is z in the camera frame,
metres, 0 = unknown; ``T_0to1`` maps points in camera 0's frame to camera 1's (``T_1_0``).
"""

from __future__ import annotations

import torch


def _sample_nearest(depth: torch.Tensor, pts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Depth (B, N) at the pixel nearest to each point and whether that pixel is inside the image."""
    b, h, w = depth.shape
    idx = pts.round().long()
    inside = (idx[..., 0] >= 0) & (idx[..., 0] < w) & (idx[..., 1] >= 0) & (idx[..., 1] < h)
    flat = idx[..., 1].clamp(0, h - 1) * w + idx[..., 0].clamp(0, w - 1)
    values = depth.reshape(b, h * w).gather(1, flat)
    return torch.where(inside, values, torch.zeros_like(values)), inside


@torch.no_grad()
def warp_points_depth(
    pts0: torch.Tensor,
    depth0: torch.Tensor,
    depth1: torch.Tensor,
    T_0to1: torch.Tensor,
    K0: torch.Tensor,
    K1: torch.Tensor,
    depth_consistency_thr: float = 0.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where pixels of image 0 land in image 1, and whether that is trustworthy.

    A point is valid when it has a depth in image 0, lands in front of camera 1 and inside image 1,
    and the depth it arrives with agrees with image 1's depth there (relative error below
    ``depth_consistency_thr``, as the official LoFTR ``warp_kpts``): this rejects points hidden in
    image 1 by something nearer. Depth is looked up at the nearest pixel.

    Args:
        pts0: (B, N, 2) pixels in image 0.
        depth0: (B, H0, W0), depth1: (B, H1, W1) metres, 0 = unknown.
        T_0to1: (B, 4, 4); K0, K1: (B, 3, 3).

    Returns:
        valid (B, N) bool, w_pts0 (B, N, 2) pixels in image 1 (meaningless where not valid).
    """
    dtype = torch.float64
    z0, _ = _sample_nearest(depth0, pts0)
    z0 = z0.to(dtype)
    ones = torch.ones_like(pts0[..., :1])
    pts_h = torch.cat([pts0, ones], dim=-1).to(dtype)  # (B, N, 3)
    cam0 = (torch.linalg.inv(K0.to(dtype)) @ pts_h.transpose(1, 2)) * z0[:, None, :]  # (B, 3, N)
    T = T_0to1.to(dtype)
    cam1 = T[:, :3, :3] @ cam0 + T[:, :3, 3:]
    z1 = cam1[:, 2, :]
    proj = (K1.to(dtype) @ cam1).transpose(1, 2)  # (B, N, 3)
    in_front = z1 > 1e-6
    w_pts = proj[..., :2] / torch.where(in_front, proj[..., 2], torch.ones_like(z1))[..., None]
    d1, inside = _sample_nearest(depth1, w_pts)
    d1 = d1.to(dtype)
    consistent = (d1 > 0) & ((d1 - z1).abs() < depth_consistency_thr * d1)
    valid = (z0 > 0) & in_front & inside & consistent
    return valid, w_pts.to(pts0.dtype)


@torch.no_grad()
def warp_points_homography(
    pts0: torch.Tensor, H_0to1: torch.Tensor, image1_hw: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Where pixels of image 0 land in image 1 under a homography; valid if inside image 1.

    Args:
        pts0: (B, N, 2) pixels in image 0; H_0to1: (B, 3, 3) maps image-0 to image-1 pixels.
        image1_hw: (H1, W1) of image 1.

    Returns:
        valid (B, N) bool, w_pts0 (B, N, 2) pixels in image 1.
    """
    dtype = torch.float64
    pts_h = torch.cat([pts0, torch.ones_like(pts0[..., :1])], dim=-1).to(dtype)
    proj = pts_h @ H_0to1.to(dtype).transpose(1, 2)
    positive = proj[..., 2] > 1e-12
    w_pts = proj[..., :2] / torch.where(positive, proj[..., 2], torch.ones_like(proj[..., 2]))[..., None]
    h, w = image1_hw
    idx = w_pts.round()
    inside = (idx[..., 0] >= 0) & (idx[..., 0] < w) & (idx[..., 1] >= 0) & (idx[..., 1] < h)
    return positive & inside, w_pts.to(pts0.dtype)
