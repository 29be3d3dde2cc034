"""Synthetic training and test data: textured 3D rooms ray-cast in torch, and homographic photo pairs.

``make_scene(seed)`` builds a room, ``scene.render(T_world_camera, intrinsics)`` a view with exact
depth; ``sample_pair`` and ``sample_homography_pair`` give pairs with exact relative geometry, and
``make_sequence`` a smooth trajectory of keyframes and queries for localization tests.
"""

from loftr_ros.synthetic.nuisance import NO_NUISANCE, NuisanceConfig, apply_nuisances
from loftr_ros.synthetic.pairs import (
    HomographyConfig,
    PairConfig,
    PairSample,
    Sequence,
    default_intrinsics,
    look_at,
    make_sequence,
    relative_pose,
    sample_camera,
    sample_homography_pair,
    sample_pair,
    trajectory,
)
from loftr_ros.synthetic.scene import Quads, RenderedView, Scene, SceneConfig, make_scene
from loftr_ros.synthetic.textures import TextureAtlas, load_photos

__all__ = [
    "NO_NUISANCE",
    "HomographyConfig",
    "NuisanceConfig",
    "PairConfig",
    "PairSample",
    "Quads",
    "RenderedView",
    "Scene",
    "SceneConfig",
    "Sequence",
    "TextureAtlas",
    "apply_nuisances",
    "default_intrinsics",
    "load_photos",
    "look_at",
    "make_scene",
    "make_sequence",
    "relative_pose",
    "sample_camera",
    "sample_homography_pair",
    "sample_pair",
    "trajectory",
]
