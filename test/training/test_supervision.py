"""Coarse and fine ground truth on hand-made geometry whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from loftr_ros.errors import ConfigError
from loftr_ros.synthetic import NO_NUISANCE, Quads, Scene, SceneConfig, TextureAtlas
from loftr_ros.training.supervision import (
    SupervisionConfig,
    coarse_grid,
    compute_supervision_coarse,
    compute_supervision_fine,
    fine_targets,
)

H, W = 120, 160  # coarse grid 15 x 20
HC, WC = H // 8, W // 8
FX = 100.0


def camera_matrix() -> torch.Tensor:
    return torch.tensor([[FX, 0.0, (W - 1) / 2], [0.0, FX, (H - 1) / 2], [0.0, 0.0, 1.0]])


def plane_pair(shift_px: float, depth: float = 2.0) -> dict:
    """Two views of the fronto-parallel plane z = depth; camera 1 is camera 0 moved right.

    A point at depth Z moves by fx * tx / Z pixels to the left, so tx = shift_px * Z / fx.
    """
    tx = shift_px * depth / FX
    T_0to1 = torch.eye(4)
    T_0to1[0, 3] = -tx  # p1 = p0 - (tx, 0, 0): camera 1's centre is at +tx in camera 0's frame
    T_1to0 = torch.linalg.inv(T_0to1)
    K = camera_matrix()
    return {
        "image0": torch.zeros(1, 1, H, W),
        "image1": torch.zeros(1, 1, H, W),
        "depth0": torch.full((1, H, W), depth),
        "depth1": torch.full((1, H, W), depth),
        "K0": K[None],
        "K1": K[None],
        "T_0to1": T_0to1[None],
        "T_1to0": T_1to0[None],
    }


def expected_shift_matrix(shift_cells: int, first_col: int | None = None) -> torch.Tensor:
    """conf_matrix_gt when cell (r, c) of image 0 is cell (r, c - shift_cells) of image 1."""
    gt = torch.zeros(HC * WC, HC * WC)
    for r in range(HC):
        for c in range(shift_cells if first_col is None else first_col, WC):
            gt[r * WC + c, r * WC + c - shift_cells] = 1.0
    return gt


def test_coarse_grid_is_row_major_at_the_scaled_cell_origin() -> None:
    grid = coarse_grid(2, 3, 8, batch=2)
    assert grid.shape == (2, 6, 2)
    assert grid[0].tolist() == [[0, 0], [8, 0], [16, 0], [0, 8], [8, 8], [16, 8]]


def test_x_translation_maps_cell_rc_to_r_c_minus_shift() -> None:
    data = plane_pair(shift_px=16.0)  # exactly two coarse cells
    compute_supervision_coarse(data)
    gt = data["conf_matrix_gt"][0]
    assert torch.equal(gt, expected_shift_matrix(2))
    i, j = data["spv_i_ids"], data["spv_j_ids"]
    assert torch.equal(j, i - 2) and torch.all(data["spv_b_ids"] == 0)
    assert len(i) == HC * (WC - 2)
    # the fine reference points: cell i warped, exactly 16 px to the left
    w = data["spv_w_pt0_i"][0]
    grid = coarse_grid(HC, WC, 8, 1)[0]
    valid = grid[:, 0] >= 16
    torch.testing.assert_close(w[valid], grid[valid] - torch.tensor([16.0, 0.0]), atol=1e-4, rtol=0)
    assert torch.isnan(w[~valid]).all()  # those land outside image 1


def test_rendered_plane_gives_the_same_exact_mapping() -> None:
    """The renderer's depth and poses feed the supervision with the same exact answer."""
    rng = np.random.default_rng(0)
    tile = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    quads = Quads(
        origin=torch.tensor([[-20.0, -20.0, 2.0]], dtype=torch.float64),
        edge_u=torch.tensor([[40.0, 0.0, 0.0]], dtype=torch.float64),
        edge_v=torch.tensor([[0.0, 40.0, 0.0]], dtype=torch.float64),
        tile=torch.zeros(1, dtype=torch.int64),
        tex_affine=torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=torch.float64),
        albedo=torch.ones(1, 3),
    )
    scene = Scene(quads, TextureAtlas([tile], levels=1), (1, 1, 1), SceneConfig(nuisance=NO_NUISANCE), 0, [])
    from loftr_ros.localization.types import CameraIntrinsics

    K = CameraIntrinsics(W, H, FX, FX, (W - 1) / 2, (H - 1) / 2)
    T0 = np.eye(4)
    T1 = np.eye(4)
    T1[0, 3] = 24.0 * 2.0 / FX  # three cells
    v0, v1 = scene.render(T0, K), scene.render(T1, K)
    T_0to1 = torch.from_numpy(np.linalg.inv(T1) @ T0).float()
    data = {
        "image0": torch.zeros(1, 1, H, W),
        "image1": torch.zeros(1, 1, H, W),
        "depth0": torch.from_numpy(v0.depth)[None],
        "depth1": torch.from_numpy(v1.depth)[None],
        "K0": torch.from_numpy(K.K).float()[None],
        "K1": torch.from_numpy(K.K).float()[None],
        "T_0to1": T_0to1[None],
        "T_1to0": torch.linalg.inv(T_0to1)[None],
    }
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], expected_shift_matrix(3))


def test_depth_inconsistent_and_unknown_points_are_rejected() -> None:
    data = plane_pair(shift_px=16.0)
    # something nearer covers columns 40..79 of image 1: image-0 points landing there are hidden
    data["depth1"][0, :, 40:80] = 1.0
    # and image 0 has no depth in its top rows
    data["depth0"][0, :16, :] = 0.0
    compute_supervision_coarse(data)
    gt = data["conf_matrix_gt"][0]
    expected = expected_shift_matrix(2)
    for r in range(HC):
        for c in range(WC):
            hidden = 40 <= 8 * (c - 2) < 80
            unknown = 8 * r < 16
            if hidden or unknown:
                expected[r * WC + c] = 0.0
    # the reverse check removes the same pairs: cells of image 1 on the near object warp elsewhere
    assert torch.equal(gt, expected)
    assert gt.sum() > 0


def test_a_threshold_looser_than_the_depth_gap_keeps_the_points() -> None:
    data = plane_pair(shift_px=16.0)
    data["depth1"][0, :, 40:80] = 1.9  # 5 % nearer: within the 20 % consistency threshold
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], expected_shift_matrix(2))
    strict = plane_pair(shift_px=16.0)
    strict["depth1"][0, :, 40:80] = 1.9
    compute_supervision_coarse(strict, SupervisionConfig(depth_consistency_thr=0.01))
    assert strict["conf_matrix_gt"][0].sum() < data["conf_matrix_gt"][0].sum()


def homography_data(H_0to1: torch.Tensor) -> dict:
    return {"image0": torch.zeros(1, 1, H, W), "image1": torch.zeros(1, 1, H, W), "H_0to1": H_0to1[None]}


def test_identity_homography_gives_the_identity_mapping() -> None:
    data = homography_data(torch.eye(3))
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], torch.eye(HC * WC))
    torch.testing.assert_close(data["spv_w_pt0_i"], data["spv_pt1_i"])


def test_translation_homography_matches_the_depth_case() -> None:
    Hm = torch.tensor([[1.0, 0.0, -16.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    data = homography_data(Hm)
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], expected_shift_matrix(2))


def test_mixed_batch_of_depth_and_homography_pairs() -> None:
    depth = plane_pair(shift_px=16.0)
    batch = {key: torch.cat([value, value]) for key, value in depth.items()}
    batch["depth0"][1] = 0.0  # homographic sample: no depth
    batch["H_0to1"] = torch.stack([torch.zeros(3, 3), torch.eye(3)])
    batch["is_homography"] = torch.tensor([False, True])
    compute_supervision_coarse(batch)
    assert torch.equal(batch["conf_matrix_gt"][0], expected_shift_matrix(2))
    assert torch.equal(batch["conf_matrix_gt"][1], torch.eye(HC * WC))


def test_fine_targets_in_window_radii() -> None:
    # a 17 px shift: cell c lands 17 px left, its nearest cell is c - 2 (16 px), 1 px short;
    # column 2 lands at x = -1, outside image 1
    data = plane_pair(shift_px=17.0)
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], expected_shift_matrix(2, first_col=3))
    data.update(b_ids=data["spv_b_ids"], i_ids=data["spv_i_ids"], j_ids=data["spv_j_ids"])
    compute_supervision_fine(data)
    # (w_pt0 - pt1) / fine_scale 2 / radius 2 = (-1 px, 0) / 4
    expected = torch.tensor([-0.25, 0.0]).expand_as(data["expec_f_gt"])
    torch.testing.assert_close(data["expec_f_gt"], expected, atol=1e-4, rtol=0)


def test_fine_targets_of_a_wrong_coarse_match_fall_outside_the_window() -> None:
    w_pt0 = torch.tensor([[[16.0, 8.0], [float("nan"), float("nan")]]])
    pt1 = torch.tensor([[[0.0, 0.0], [8.0, 8.0], [16.0, 8.0]]])
    b = torch.tensor([0, 0, 0])
    targets = fine_targets(w_pt0, pt1, b, torch.tensor([0, 0, 1]), torch.tensor([2, 0, 2]))
    torch.testing.assert_close(targets[0], torch.tensor([0.0, 0.0]))  # the true cell: the window centre
    torch.testing.assert_close(targets[1], torch.tensor([4.0, 2.0]))  # a wrong one: 16, 8 px away
    assert torch.isnan(targets[2]).all()  # unknown warp


def test_fine_supervision_needs_the_coarse_supervision() -> None:
    with pytest.raises(ConfigError, match="spv_w_pt0_i"):
        compute_supervision_fine({})
    with pytest.raises(ConfigError, match="fine_window_size"):
        SupervisionConfig(fine_window_size=4).validate()


def test_fine_targets_of_a_homography_pair() -> None:
    # the homographic analogue of the 17 px shift: same coarse matches, same -1 px fine offset
    Hm = torch.tensor([[1.0, 0.0, -17.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    data = homography_data(Hm)
    compute_supervision_coarse(data)
    assert torch.equal(data["conf_matrix_gt"][0], expected_shift_matrix(2, first_col=3))
    data.update(b_ids=data["spv_b_ids"], i_ids=data["spv_i_ids"], j_ids=data["spv_j_ids"])
    compute_supervision_fine(data)
    torch.testing.assert_close(data["expec_f_gt"], torch.tensor([-0.25, 0.0]).expand_as(data["expec_f_gt"]))


@settings(max_examples=25, deadline=None)
@given(
    angle=st.floats(-0.5, 0.5),
    zoom=st.floats(0.7, 1.4),
    tx=st.floats(-40.0, 40.0),
    ty=st.floats(-30.0, 30.0),
    px=st.floats(-1e-3, 1e-3),
)
def test_homography_ground_truth_is_one_to_one_and_mutual(
    angle: float, zoom: float, tx: float, ty: float, px: float
) -> None:
    c, s = np.cos(angle) * zoom, np.sin(angle) * zoom
    Hm = torch.tensor([[c, -s, tx], [s, c, ty], [px, 0.0, 1.0]], dtype=torch.float32)
    data = homography_data(Hm)
    compute_supervision_coarse(data)
    gt = data["conf_matrix_gt"][0]
    assert torch.all(gt.sum(0) <= 1) and torch.all(gt.sum(1) <= 1)
    i, j = data["spv_i_ids"], data["spv_j_ids"]
    grid = coarse_grid(HC, WC, 8, 1)[0].double()
    Hd = Hm.double()

    def warp(points: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        p = torch.cat([points, torch.ones(len(points), 1, dtype=points.dtype)], 1) @ matrix.T
        return p[:, :2] / p[:, 2:]

    # each pair: i lands nearest to cell j, and j lands back nearest to cell i (a tie at half a cell may go
    # either way: zoom 1.1 puts cell 5 at 5.5)
    assert ((warp(grid[i], Hd) - grid[j]) / 8).abs().max() <= 0.5 + 1e-6
    assert ((warp(grid[j], torch.linalg.inv(Hd)) - grid[i]) / 8).abs().max() <= 0.5 + 1e-6
