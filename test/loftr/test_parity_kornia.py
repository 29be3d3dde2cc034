"""Parity with kornia's LoFTR (the official architecture) from one shared random state dict.

kornia is the oracle here only. With the coarse threshold at 0 every mutual nearest neighbour counts,
so the comparison covers the coarse matching and the fine stage of many matches. kornia's default config
is the published one with the original positional encoding (our 'outdoor' preset); for sizes that are
not multiples of 8 kornia crops the 2x-upsampled FPN maps to the skip size, which we do too.

In float64 both agree to ~1e-12. In float32 the two implementations round differently (~1e-6 relative
per layer) and the fine-level softmax of random weights amplifies that to ~1e-4 px in keypoints1, so
the float32 test uses 1e-3 px there; confidences and the confidence matrix stay within 1e-5.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from kornia.feature import LoFTR as KorniaLoFTR

from loftr_ros.loftr import LoFTR, get_config

SIZES = [
    ((96, 128), (96, 128)),
    ((101, 133), (90, 120)),  # not multiples of 8, different sizes
    ((120, 160), (123, 157)),
]


@pytest.fixture(scope="module")
def models() -> tuple[Any, LoFTR]:
    return _models()


def _models(attention: str = "linear") -> tuple[Any, LoFTR]:
    torch.manual_seed(0)
    kornia_config = None
    if attention != "linear":
        from kornia.feature.loftr.loftr import default_cfg

        kornia_config = {**default_cfg, "coarse": {**default_cfg["coarse"], "attention": attention}}
        kornia_config["fine"] = {**default_cfg["fine"], "attention": attention}
    theirs = KorniaLoFTR(pretrained=None, **({} if kornia_config is None else {"config": kornia_config})).eval()
    theirs.coarse_matching.thr = 0.0
    config = get_config("outdoor")
    config.match_coarse.thr = 0.0
    config.coarse.attention = config.fine.attention = attention
    ours = LoFTR(config).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours


def _run_both(theirs: Any, ours: LoFTR, image0: torch.Tensor, image1: torch.Tensor) -> tuple[dict, dict]:
    captured: dict[str, torch.Tensor] = {}
    hook = theirs.coarse_matching.register_forward_hook(
        lambda module, args, out: captured.update(conf_matrix=args[2]["conf_matrix"])
    )
    try:
        with torch.inference_mode():
            kornia_out = theirs({"image0": image0, "image1": image1})
            our_out = ours({"image0": image0, "image1": image1})
    finally:
        hook.remove()
    kornia_out["conf_matrix"] = captured["conf_matrix"]
    return kornia_out, our_out


def _tensor(image: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(image).to(dtype).div(255.0)[None, None]


def test_state_dict_keys_and_shapes_are_kornias(models: tuple[Any, LoFTR]) -> None:
    theirs, ours = models
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }


@pytest.mark.parametrize(("size0", "size1"), SIZES)
def test_float64_parity(size0: tuple, size1: tuple, textured_pair: Callable, models: tuple[Any, LoFTR]) -> None:
    theirs, ours = (copy.deepcopy(m).double() for m in models)
    image0, image1 = textured_pair(*size0, *size1)
    k_out, o_out = _run_both(theirs, ours, _tensor(image0, torch.float64), _tensor(image1, torch.float64))
    assert len(k_out["confidence"]) > 3  # enough matches to compare the fine stage
    assert o_out["mkpts0_f"].shape == k_out["keypoints0"].shape
    torch.testing.assert_close(o_out["mkpts0_f"], k_out["keypoints0"], atol=1e-4, rtol=0)
    torch.testing.assert_close(o_out["mkpts1_f"], k_out["keypoints1"], atol=1e-4, rtol=0)
    torch.testing.assert_close(o_out["mconf"], k_out["confidence"], atol=1e-4, rtol=0)
    torch.testing.assert_close(o_out["conf_matrix"], k_out["conf_matrix"], atol=1e-4, rtol=0)
    # far tighter in fact: the same computation
    assert (o_out["mkpts1_f"] - k_out["keypoints1"]).abs().max() < 1e-9


@pytest.mark.parametrize(("size0", "size1"), SIZES)
def test_float32_parity(size0: tuple, size1: tuple, textured_pair: Callable, models: tuple[Any, LoFTR]) -> None:
    theirs, ours = models
    image0, image1 = textured_pair(*size0, *size1, seed=1)
    k_out, o_out = _run_both(theirs, ours, _tensor(image0, torch.float32), _tensor(image1, torch.float32))
    assert len(k_out["confidence"]) > 3
    assert o_out["mkpts0_f"].shape == k_out["keypoints0"].shape
    torch.testing.assert_close(o_out["mkpts0_f"], k_out["keypoints0"], atol=1e-4, rtol=0)
    torch.testing.assert_close(o_out["mkpts1_f"], k_out["keypoints1"], atol=1e-3, rtol=0)
    torch.testing.assert_close(o_out["mconf"], k_out["confidence"], atol=1e-5, rtol=0)
    torch.testing.assert_close(o_out["conf_matrix"], k_out["conf_matrix"], atol=1e-5, rtol=0)


def test_float32_parity_full_attention(textured_pair: Callable) -> None:
    theirs, ours = _models(attention="full")
    image0, image1 = textured_pair(96, 128)
    k_out, o_out = _run_both(theirs, ours, _tensor(image0, torch.float32), _tensor(image1, torch.float32))
    assert len(k_out["confidence"]) > 0
    torch.testing.assert_close(o_out["mkpts0_f"], k_out["keypoints0"], atol=1e-4, rtol=0)
    torch.testing.assert_close(o_out["mkpts1_f"], k_out["keypoints1"], atol=1e-3, rtol=0)
    torch.testing.assert_close(o_out["conf_matrix"], k_out["conf_matrix"], atol=1e-5, rtol=0)


def test_cached_features_give_the_same_result_as_images(textured_pair: Callable, models: tuple[Any, LoFTR]) -> None:
    ours = models[1]
    image0, image1 = (_tensor(im, torch.float32) for im in textured_pair(96, 128))
    with torch.inference_mode():
        direct = ours({"image0": image0, "image1": image1})
        cached = ours({"image0": image0, "features1": ours.extract_features(image1)})
    assert len(direct["mconf"]) > 0
    torch.testing.assert_close(cached["mkpts1_f"], direct["mkpts1_f"], atol=1e-4, rtol=0)
    torch.testing.assert_close(cached["conf_matrix"], direct["conf_matrix"], atol=1e-6, rtol=0)
