"""A synthetic 3D world of textured planar quads (room walls, boxes, panels), ray-cast in torch.

World frame: z up, the room's floor is z = 0 and spans [0, size_x] x [0, size_y]. Cameras follow
the core's conventions (``loftr_ros.localization.types``): optical frame x right, y down, z
forward, poses ``T_world_camera`` 4x4 float64, pixel (0, 0) at the centre of the top-left pixel.

Every pixel's ray (through its centre) is intersected with every quad in one batched tensor op; the
nearest hit gives the depth (z in the camera frame, exact up to float32 rounding) and the texture
coordinates, which are sampled from a mip-mapped atlas of real photographs with ``grid_sample``.
Shading is Lambertian (view independent), so a surface point has the same colour in every view
before the per-view photometric nuisances (:mod:`loftr_ros.synthetic.nuisance`) are applied.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from loftr_ros.errors import ConfigError
from loftr_ros.localization.types import CameraIntrinsics
from loftr_ros.synthetic.nuisance import INDOOR_CAMERA, NuisanceConfig, apply_nuisances
from loftr_ros.synthetic.textures import TextureAtlas, _square_tile, load_photos, low_texture_tile

logger = logging.getLogger("loftr_ros.synthetic")


@dataclass(frozen=True)
class SceneConfig:
    """How :func:`make_scene` builds a room; ranges are (low, high), sampled uniformly per scene."""

    room_size_x: tuple[float, float] = (5.0, 9.0)  # room extent along world x, metres
    room_size_y: tuple[float, float] = (5.0, 9.0)  # room extent along world y, metres
    room_height: tuple[float, float] = (2.6, 3.5)  # floor to ceiling, metres
    num_boxes: tuple[int, int] = (2, 6)  # boxes standing near the walls (inclusive range)
    box_size: tuple[float, float] = (0.3, 1.2)  # box edge lengths, metres
    num_panels: tuple[int, int] = (2, 5)  # free-standing tilted planes in front of the walls
    panel_size: tuple[float, float] = (0.6, 2.0)  # panel edge lengths, metres
    wall_splits: tuple[int, int] = (1, 3)  # each wall is cut into this many differently textured quads
    texture_extent: tuple[float, float] = (0.5, 2.0)  # metres covered by one texture tile
    low_texture_prob: float = 0.15  # chance a quad gets a nearly uniform texture instead of a photo
    textures_per_scene: int = 10  # photos drawn from the library for one scene
    tile_size: int = 512  # texture tile side, texels; a multiple of 2 ** (mip_levels - 1)
    mip_levels: int = 4  # texture pyramid depth, against aliasing of distant surfaces
    extra_texture_dir: str | None = None  # folder of extra photos (recursive); None = skimage's only
    max_photo_side: int = 1024  # photos are downscaled to this longest side when loaded
    ambient: tuple[float, float] = (0.45, 0.75)  # ambient light share; the rest is directional
    camera_margin: float = 1.8  # cameras keep this far from the walls (objects stand closer)
    nuisance: NuisanceConfig = field(default_factory=NuisanceConfig)  # per-view photometric effects
    # indoor furniture and light (all off by default: the first recipe's rooms; see INDOOR_SCENE)
    num_shelves: tuple[int, int] = (0, 0)  # open shelving units against the walls: sides, back, boards
    num_doors: tuple[int, int] = (0, 0)  # doors with frames, flush with a wall
    num_tables: tuple[int, int] = (0, 0)  # tables near the walls: a top on four legs
    structure_low_texture_prob: float | None = None  # floor, ceiling, wall strips; None = low_texture_prob
    low_texture_tiles: int = 3  # distinct nearly uniform tiles per scene
    point_lights: tuple[int, int] = (0, 0)  # ceiling lights with inverse-square falloff (0 = flat shading)
    light_falloff_m: tuple[float, float] = (1.5, 3.0)  # distance at which a light's power has halved
    light_change: float = 0.0  # per-view log-std of each light's power: lights dimmed or brightened
    light_off_prob: float = 0.0  # per-view chance that a light is switched off
    clutter: tuple[int, int] = (0, 0)  # small objects (5-30 cm boxes) on each table top and shelf board

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid option."""
        for name in ("room_size_x", "room_size_y", "room_height", "box_size", "panel_size", "texture_extent"):
            low, high = getattr(self, name)
            if not 0.0 < low <= high:
                msg = f"SceneConfig.{name} must be 0 < low <= high, got {(low, high)}"
                raise ConfigError(msg)
        for name in ("num_boxes", "num_panels", "wall_splits"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                msg = f"SceneConfig.{name} must be 0 <= low <= high, got {(low, high)}"
                raise ConfigError(msg)
        if self.wall_splits[0] < 1:
            msg = "SceneConfig.wall_splits must be at least 1"
            raise ConfigError(msg)
        if self.mip_levels < 1 or self.tile_size % (2 ** (self.mip_levels - 1)) != 0 or self.tile_size < 16:
            msg = (
                f"SceneConfig.tile_size ({self.tile_size}) must be >= 16 and a multiple of "
                f"2 ** (mip_levels - 1) = {2 ** max(self.mip_levels - 1, 0)}"
            )
            raise ConfigError(msg)
        if not 0.0 <= self.low_texture_prob <= 1.0:
            msg = f"SceneConfig.low_texture_prob must be in [0, 1], got {self.low_texture_prob}"
            raise ConfigError(msg)
        for name in ("num_shelves", "num_doors", "num_tables", "point_lights", "clutter"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                msg = f"SceneConfig.{name} must be 0 <= low <= high, got {(low, high)}"
                raise ConfigError(msg)
        structure_prob = self.structure_low_texture_prob
        if structure_prob is not None and not 0.0 <= structure_prob <= 1.0:
            msg = f"SceneConfig.structure_low_texture_prob must be in [0, 1], got {structure_prob}"
            raise ConfigError(msg)
        if self.low_texture_tiles < 1 or self.light_change < 0 or not 0.0 <= self.light_off_prob <= 1.0:
            msg = "SceneConfig: low_texture_tiles >= 1, light_change >= 0 and light_off_prob in [0, 1]"
            raise ConfigError(msg)
        if self.textures_per_scene < 1:
            msg = "SceneConfig.textures_per_scene must be at least 1"
            raise ConfigError(msg)
        if 2 * self.camera_margin >= min(self.room_size_x[0], self.room_size_y[0]):
            msg = (
                f"SceneConfig.camera_margin ({self.camera_margin} m) leaves no room for cameras in a "
                f"{self.room_size_x[0]} x {self.room_size_y[0]} m room; lower it or enlarge the room"
            )
            raise ConfigError(msg)
        self.nuisance.validate()


# Rooms that look like offices and homes: shelves, doors and tables, large plain walls and ceilings, ceiling
# lights with falloff that change between views, and an indoor camera's auto-exposure, vignetting, JPEG.
INDOOR_SCENE = SceneConfig(
    num_boxes=(1, 5),
    num_panels=(0, 3),
    num_shelves=(1, 3),
    num_doors=(1, 2),
    num_tables=(0, 2),
    low_texture_prob=0.2,
    structure_low_texture_prob=0.45,
    low_texture_tiles=5,
    textures_per_scene=14,
    point_lights=(1, 4),
    light_change=0.35,
    light_off_prob=0.15,
    clutter=(0, 4),
    nuisance=INDOOR_CAMERA,
)


@dataclass
class Quads:
    """Planar parallelograms ``origin + a * edge_u + b * edge_v`` for a, b in [0, 1], world metres.

    ``tex_affine`` maps in-plane metric coordinates (a * |edge_u|, b * |edge_v|, 1) to texture
    coordinates (u, v) in tile units; ``albedo`` is the RGB shading gain of each quad.
    """

    origin: torch.Tensor  # (Q, 3) float64
    edge_u: torch.Tensor  # (Q, 3) float64
    edge_v: torch.Tensor  # (Q, 3) float64
    tile: torch.Tensor  # (Q,) int64, index into the scene's texture atlas
    tex_affine: torch.Tensor  # (Q, 2, 3) float64
    albedo: torch.Tensor  # (Q, 3) float32, already includes the Lambertian shading

    def __len__(self) -> int:
        return int(self.origin.shape[0])

    def to(self, device: torch.device | str) -> Quads:
        return Quads(*(getattr(self, f.name).to(device) for f in dataclasses.fields(self)))

    @staticmethod
    def cat(parts: list[Quads]) -> Quads:
        device = parts[0].origin.device
        parts = [p.to(device) for p in parts]
        return Quads(
            *(torch.cat([getattr(p, f) for p in parts]) for f in ("origin", "edge_u", "edge_v", "tile")),
            torch.cat([p.tex_affine for p in parts]),
            torch.cat([p.albedo for p in parts]),
        )


@dataclass
class RenderedView:
    """One rendered camera view with its exact geometry."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    depth: np.ndarray  # (H, W) float32, z in the camera frame, metres; 0 = nothing hit / unknown
    intrinsics: CameraIntrinsics
    T_world_camera: np.ndarray  # (4, 4) float64

    @property
    def gray(self) -> np.ndarray:
        """(H, W) uint8 luma (ITU-R BT.601, as OpenCV's RGB2GRAY)."""
        weights = np.array([0.299, 0.587, 0.114])
        return np.clip(self.image.astype(np.float64) @ weights + 0.5, 0, 255).astype(np.uint8)


def _rotation_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _random_unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


class Scene:
    """A seeded room: quads plus a texture atlas. Build with :func:`make_scene`."""

    def __init__(
        self,
        quads: Quads,
        atlas: TextureAtlas,
        size: tuple[float, float, float],
        config: SceneConfig,
        seed: int,
        boxes: list[tuple[np.ndarray, np.ndarray]],
        lights: Lights | None = None,
    ) -> None:
        self.lights = lights  # point lights; None = flat (ambient + directional) shading only
        self.quads = quads
        self.atlas = atlas
        self.size = size  # (x, y, z) extent of the room, metres
        self.config = config
        self.seed = seed
        self.boxes = boxes  # axis-aligned bounds (low, high) of each box and panel, to keep cameras out

    @property
    def device(self) -> torch.device:
        return self.quads.origin.device

    def to(self, device: torch.device | str) -> Scene:
        """This scene rendering on ``device`` (e.g. 'cuda'); images, depth and poses stay numpy on the host."""
        scene = Scene(self.quads.to(device), self.atlas.to(device), self.size, self.config, self.seed, self.boxes,
                      self.lights)  # fmt: skip
        return scene

    def random_quads(self, rng: np.random.Generator, count: int, centre: np.ndarray, extent: float) -> Quads:
        """Textured squares around ``centre`` (world, metres): occluders that exist only in one view."""
        parts = []
        for _ in range(count):
            normal = _random_unit(rng)
            helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
            u = np.cross(normal, helper)
            u /= np.linalg.norm(u)
            v = np.cross(normal, u)
            su, sv = rng.uniform(0.3, 1.0, size=2) * extent
            origin = centre + rng.uniform(-0.5, 0.5, size=3) * extent - 0.5 * (su * u + sv * v)
            parts.append(_make_quads(rng, self.config, self.atlas.num_tiles, [(origin, su * u, sv * v)], 0.6))
        return Quads.cat(parts)

    def render(
        self,
        T_world_camera: np.ndarray,
        intrinsics: CameraIntrinsics,
        *,
        nuisance_seed: int | None = None,
        extra: Quads | None = None,
    ) -> RenderedView:
        """Ray-cast the scene from a camera; exact depth, then optional photometric nuisances.

        Args:
            T_world_camera: (4, 4) camera pose in the world, optical frame.
            intrinsics: pinhole intrinsics (distortion is ignored: the synthetic camera is ideal).
            nuisance_seed: seed of the per-view exposure/blur/noise; None renders clean.
            extra: quads present in this view only (moving occluders); they are in its depth too.
        """
        quads = self.quads if extra is None else Quads.cat([self.quads, extra])
        lights = self.lights
        if lights is not None and nuisance_seed is not None:
            lights = lights.for_view(self.config, nuisance_seed)
        colour, depth = _raycast(quads, self.atlas, np.asarray(T_world_camera, np.float64), intrinsics, lights)
        colour, depth = colour.cpu(), depth.cpu()  # nuisances draw from a seeded CPU generator
        if nuisance_seed is not None:
            colour = apply_nuisances(colour, self.config.nuisance, nuisance_seed)
        image = (colour.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
        return RenderedView(
            image=image,
            depth=depth.numpy(),
            intrinsics=intrinsics,
            T_world_camera=np.array(T_world_camera, dtype=np.float64),
        )

    def depth_only(self, T_world_camera: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
        """(H, W) float32 depth without texturing: cheap checks while placing cameras."""
        _, depth = _raycast(self.quads, None, np.asarray(T_world_camera, np.float64), intrinsics)
        return depth.cpu().numpy()

    def is_free(self, point: np.ndarray, clearance: float = 0.25) -> bool:
        """Whether a camera can stand at ``point``: inside the room, outside every box."""
        sx, sy, sz = self.size
        if not (clearance < point[0] < sx - clearance and clearance < point[1] < sy - clearance):
            return False
        if not clearance < point[2] < sz - clearance:
            return False
        return all(
            not (np.all(point > lo - clearance) and np.all(point < hi + clearance)) for lo, hi in self.boxes
        )


@dataclass
class Lights:
    """Point lights: Lambertian with inverse-square falloff, on top of the quads' flat shading."""

    position: np.ndarray  # (L, 3) world metres
    power: np.ndarray  # (L,) shading added at zero distance, facing the light
    falloff: np.ndarray  # (L,) metres at which the power has halved
    ambient: float  # shading share that does not depend on the lights

    def for_view(self, config: SceneConfig, seed: int) -> Lights:
        """The same lights, dimmed, brightened or switched off for one view (a seeded draw)."""
        rng = np.random.default_rng([int(seed), 13])
        gain = np.exp(rng.normal(0.0, config.light_change, size=len(self.power)))
        gain *= rng.random(len(self.power)) >= config.light_off_prob
        return Lights(self.position, self.power * gain, self.falloff, self.ambient)

    def shading(self, points: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
        """(P,) shading of surface points (P, 3) with unit normals facing the viewer, same frame as the lights."""
        out = torch.full((points.shape[0],), self.ambient, dtype=points.dtype, device=points.device)
        for position, power, falloff in zip(self.position, self.power, self.falloff, strict=True):
            to_light = torch.as_tensor(position, dtype=points.dtype, device=points.device) - points
            distance = to_light.norm(dim=1).clamp(min=1e-3)
            lambert = ((to_light * normals).sum(1) / distance).clamp(min=0.0)
            out += float(power) * lambert / (1.0 + (distance / float(falloff)) ** 2)
        return out

    def in_camera(self, T_world_camera: np.ndarray) -> Lights:
        R, centre = T_world_camera[:3, :3], T_world_camera[:3, 3]
        return Lights((self.position - centre) @ R, self.power, self.falloff, self.ambient)


def _raycast(
    quads: Quads,
    atlas: TextureAtlas | None,
    T_world_camera: np.ndarray,
    intrinsics: CameraIntrinsics,
    lights: Lights | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour (3, H, W) float32 in [0, 1] and depth (H, W) float32 of the nearest quad per pixel."""
    h, w = intrinsics.height, intrinsics.width
    dtype = torch.float32
    device = quads.origin.device
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=device), torch.arange(w, dtype=dtype, device=device), indexing="ij"
    )
    # rays through pixel centres in the camera frame, z = 1 so the ray parameter is the depth
    rays_cam = torch.stack(
        [(xs.flatten() - intrinsics.cx) / intrinsics.fx, (ys.flatten() - intrinsics.cy) / intrinsics.fy],
        dim=1,
    )
    rays_cam = torch.cat([rays_cam, torch.ones(h * w, 1, dtype=dtype, device=device)], dim=1)  # (P, 3)
    R = torch.from_numpy(T_world_camera[:3, :3]).to(device)
    centre = torch.from_numpy(T_world_camera[:3, 3]).to(device)
    # quad geometry relative to the camera centre, in the camera frame (float64 -> float32 once)
    to_cam = R.T
    p0_64 = (quads.origin - centre) @ to_cam.T  # (Q, 3)
    eu_64 = quads.edge_u @ to_cam.T
    ev_64 = quads.edge_v @ to_cam.T
    keep = _in_frustum(p0_64, eu_64, ev_64, intrinsics)
    quad_ids = torch.nonzero(keep)[:, 0]
    p0, eu, ev = (x[keep].to(dtype) for x in (p0_64, eu_64, ev_64))
    normal = torch.linalg.cross(eu, ev)  # (Q', 3), not normalised
    uu = (eu * eu).sum(1)
    vv = (ev * ev).sum(1)
    uv = (eu * ev).sum(1)
    det = uu * vv - uv * uv
    # dual basis: (hit - p0) . dual_u = a and . dual_v = b for hit = p0 + a * eu + b * ev
    dual_u = (vv[:, None] * eu - uv[:, None] * ev) / det[:, None]
    dual_v = (uu[:, None] * ev - uv[:, None] * eu) / det[:, None]
    q = normal.shape[0]
    if q == 0:  # nothing in view
        return torch.zeros(3, h, w, device=device), torch.zeros(h, w, device=device)
    basis = torch.cat([normal, dual_u, dual_v]).T  # (3, 3 Q')
    offsets = torch.stack([(p0 * normal).sum(1), -(p0 * dual_u).sum(1), -(p0 * dual_v).sum(1)])  # (3, Q')
    outputs = []
    # pixels in chunks of about 2^18 ray-quad pairs (cache-sized): bounded memory whatever the image size
    chunk = max(1024, (1 << 18) // q)
    for start in range(0, h * w, chunk):
        rays = rays_cam[start : start + chunk]
        # ray p = t * d hits plane n.(p - p0) = 0 at t = n.p0 / n.d; one matmul for all dot products
        dots = rays @ basis  # (p, 3 Q')
        dn, da, db = dots[:, :q], dots[:, q : 2 * q], dots[:, 2 * q :]
        t = offsets[0] / dn  # inf / nan where the ray is parallel; rejected below
        a = torch.addcmul(offsets[1], t, da)
        b = torch.addcmul(offsets[2], t, db)
        hit = (t > 1e-3) & (a >= 0) & (a <= 1) & (b >= 0) & (b <= 1)
        t = t.masked_fill(~hit, math.inf)
        depth_c, index_c = t.min(dim=1)
        picked = index_c[:, None]
        outputs.append(
            (
                depth_c,
                index_c,
                a.gather(1, picked)[:, 0],
                b.gather(1, picked)[:, 0],
                dn.gather(1, picked)[:, 0],
            )
        )
    depth, index, a_hit, b_hit, dn_hit = (torch.cat(parts) for parts in zip(*outputs, strict=True))
    valid = torch.isfinite(depth)
    depth = torch.where(valid, depth, torch.zeros_like(depth))
    if atlas is None:
        return torch.zeros(3, h, w, device=device), depth.view(h, w)
    metric = torch.stack([a_hit * uu[index].sqrt(), b_hit * vv[index].sqrt(), torch.ones_like(a_hit)], dim=1)
    quad = quad_ids[index]  # index into all quads
    affine = quads.tex_affine.to(dtype)[quad]  # (P, 2, 3)
    tex = (affine @ metric[:, :, None])[:, :, 0]
    # mip level: texels covered by one pixel footprint (z / f metres, stretched by obliquity)
    texels_per_metre = atlas.tile_size * torch.linalg.det(quads.tex_affine[:, :, :2]).abs().sqrt().to(dtype)
    cos = dn_hit.abs() / (normal[index].norm(dim=1) * rays_cam.norm(dim=1)).clamp(min=1e-12)
    footprint = depth / (0.5 * (intrinsics.fx + intrinsics.fy)) / cos.clamp(min=0.05).sqrt()
    lod = torch.log2((footprint * texels_per_metre[quad]).clamp(min=1e-6))
    colour = atlas.sample(quads.tile[quad], tex[:, 0], tex[:, 1], lod)
    colour = colour * quads.albedo[quad]
    if lights is not None:
        points = rays_cam * depth[:, None]  # rays have z = 1, so the ray parameter is the depth
        normals = normal[index] / normal[index].norm(dim=1, keepdim=True).clamp(min=1e-12)
        normals = torch.where(((normals * rays_cam).sum(1) > 0)[:, None], -normals, normals)  # face the viewer
        colour = colour * lights.in_camera(T_world_camera).shading(points, normals)[:, None]
    colour = torch.where(valid[:, None], colour, torch.zeros_like(colour))
    return colour.T.reshape(3, h, w).contiguous(), depth.view(h, w)


def _in_frustum(p0: torch.Tensor, eu: torch.Tensor, ev: torch.Tensor, K: CameraIntrinsics) -> torch.Tensor:
    """(Q,) bool: False for quads entirely outside one plane of the view frustum (conservative)."""
    corners = torch.stack([p0, p0 + eu, p0 + ev, p0 + eu + ev], dim=1)  # (Q, 4, 3)
    x, y, z = corners.unbind(-1)
    # half-spaces of the frustum's side planes, with a pixel of slack
    left = x * K.fx >= -(K.cx + 1.0) * z
    right = x * K.fx <= (K.width - K.cx) * z
    top = y * K.fy >= -(K.cy + 1.0) * z
    bottom = y * K.fy <= (K.height - K.cy) * z
    front = z > 1e-3
    return left.any(1) & right.any(1) & top.any(1) & bottom.any(1) & front.any(1)


def _make_quads(
    rng: np.random.Generator,
    config: SceneConfig,
    num_tiles: int,
    geometry: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ambient: float,
    light: np.ndarray | None = None,
    low_texture_tiles: tuple[int, int] | None = None,
    low_texture_prob: float | None = None,
) -> Quads:
    """Give each (origin, edge_u, edge_v) a texture tile, a random texture placement and a shade."""
    low_texture_prob = config.low_texture_prob if low_texture_prob is None else low_texture_prob
    light = np.array([0.3, 0.2, 0.93]) if light is None else light
    light = light / np.linalg.norm(light)
    origins, us, vs, tiles, affines, albedos = [], [], [], [], [], []
    for origin, eu, ev in geometry:
        if low_texture_tiles is not None and rng.random() < low_texture_prob:
            tile = int(rng.integers(*low_texture_tiles))
        else:
            tile = int(rng.integers(0, num_tiles if low_texture_tiles is None else low_texture_tiles[0]))
        extent = rng.uniform(*config.texture_extent)
        angle = rng.uniform(-math.pi, math.pi) if rng.random() < 0.3 else rng.normal(0.0, 0.1)
        aspect = math.exp(rng.normal(0.0, 0.15))
        c, s = math.cos(angle), math.sin(angle)
        linear = np.array([[c, -s], [s, c]]) @ np.diag([aspect, 1.0 / aspect]) / extent
        affine = np.concatenate([linear, rng.uniform(0.0, 2.0, size=(2, 1))], axis=1)
        normal = np.cross(eu, ev)
        normal /= np.linalg.norm(normal)
        shade = ambient + (1.0 - ambient) * abs(float(normal @ light))
        tint = np.exp(rng.normal(0.0, 0.08, size=3))
        origins.append(origin)
        us.append(eu)
        vs.append(ev)
        tiles.append(tile)
        affines.append(affine)
        albedos.append(np.clip(shade * tint * rng.uniform(0.85, 1.15), 0.05, 1.6))
    return Quads(
        origin=torch.tensor(np.array(origins), dtype=torch.float64),
        edge_u=torch.tensor(np.array(us), dtype=torch.float64),
        edge_v=torch.tensor(np.array(vs), dtype=torch.float64),
        tile=torch.tensor(tiles, dtype=torch.int64),
        tex_affine=torch.tensor(np.array(affines), dtype=torch.float64),
        albedo=torch.tensor(np.array(albedos), dtype=torch.float32),
    )


def _box_faces(
    low: np.ndarray, high: np.ndarray, yaw: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The six faces of a box rotated by ``yaw`` about its vertical axis through its centre."""
    centre = 0.5 * (low + high)
    half = 0.5 * (high - low)
    R = _rotation_z(yaw)
    ex, ey, ez = (R[:, i] * 2 * half[i] for i in range(3))
    corner = centre - 0.5 * (ex + ey + ez)
    return [
        (corner, ex, ey),  # bottom
        (corner + ez, ex, ey),  # top
        (corner, ex, ez),
        (corner + ey, ex, ez),
        (corner, ey, ez),
        (corner + ex, ey, ez),
    ]


def make_scene(seed: int, config: SceneConfig | None = None) -> Scene:
    """A random room with boxes and tilted panels near its walls, textured with real photos.

    The same seed and config give a bit-identical scene (geometry, textures, shading).
    """
    config = SceneConfig() if config is None else config
    config.validate()
    rng = np.random.default_rng(seed)
    photos = load_photos(config.extra_texture_dir, config.max_photo_side)
    count = min(config.textures_per_scene, len(photos))
    chosen = rng.choice(len(photos), size=count, replace=False)
    tiles = [_square_tile(photos[int(i)], config.tile_size) for i in chosen]
    num_low = config.low_texture_tiles
    tiles += [low_texture_tile(rng, config.tile_size) for _ in range(num_low)]
    atlas = TextureAtlas(tiles, levels=config.mip_levels)
    low_range = (count, count + num_low)

    sx, sy, sz = (
        rng.uniform(*config.room_size_x),
        rng.uniform(*config.room_size_y),
        rng.uniform(*config.room_height),
    )
    ambient = rng.uniform(*config.ambient)
    light = np.array([rng.normal(), rng.normal(), 2.0])
    geometry: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    # floor, ceiling and four walls, each wall split into a few vertical strips
    geometry.append((np.zeros(3), np.array([sx, 0.0, 0.0]), np.array([0.0, sy, 0.0])))
    geometry.append((np.array([0.0, 0.0, sz]), np.array([sx, 0.0, 0.0]), np.array([0.0, sy, 0.0])))
    walls = [
        (np.zeros(3), np.array([sx, 0.0, 0.0])),
        (np.array([0.0, sy, 0.0]), np.array([sx, 0.0, 0.0])),
        (np.zeros(3), np.array([0.0, sy, 0.0])),
        (np.array([sx, 0.0, 0.0]), np.array([0.0, sy, 0.0])),
    ]
    up = np.array([0.0, 0.0, sz])
    for start, along in walls:
        splits = int(rng.integers(config.wall_splits[0], config.wall_splits[1] + 1))
        cuts = np.sort(rng.uniform(0.15, 0.85, size=splits - 1))
        bounds = np.concatenate([[0.0], cuts, [1.0]])
        for lo, hi in itertools.pairwise(bounds):
            geometry.append((start + lo * along, (hi - lo) * along, up))
    num_structure = len(geometry)

    boxes: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(int(rng.integers(config.num_boxes[0], config.num_boxes[1] + 1))):
        size = rng.uniform(*config.box_size, size=3)
        radius = 0.5 * float(np.linalg.norm(size[:2]))
        centre = _near_wall_point(rng, (sx, sy), distance=(radius + 0.05, radius + 0.4))
        low = np.array([centre[0] - size[0] / 2, centre[1] - size[1] / 2, 0.0])
        high = low + size
        if rng.random() < 0.3:  # some boxes are stacked or hang: not everything touches the floor
            lift = rng.uniform(0.0, max(sz - size[2] - 0.1, 0.0))
            low[2] += lift
            high[2] += lift
        geometry += _box_faces(low, high, rng.uniform(-0.5, 0.5))
        boxes.append(
            (
                np.array([centre[0] - radius, centre[1] - radius, low[2]]),
                np.array([centre[0] + radius, centre[1] + radius, high[2]]),
            )
        )

    for _ in range(int(rng.integers(config.num_panels[0], config.num_panels[1] + 1))):
        width, height = rng.uniform(*config.panel_size, size=2)
        centre = _near_wall_point(rng, (sx, sy), distance=(0.3, 1.2))
        centre = np.array(
            [
                centre[0],
                centre[1],
                rng.uniform(0.3 + height / 3, max(sz - height / 3 - 0.2, 0.4 + height / 3)),
            ]
        )
        yaw = rng.uniform(-math.pi, math.pi)
        tilt = rng.uniform(-0.6, 0.6)
        R = _rotation_z(yaw)
        u = R[:, 0] * width
        v = (math.cos(tilt) * np.array([0.0, 0.0, 1.0]) + math.sin(tilt) * R[:, 1]) * height
        geometry.append((centre - 0.5 * (u + v), u, v))
        corners = centre + np.array([[sa * 0.5, sb * 0.5] for sa in (-1, 1) for sb in (-1, 1)]) @ np.stack(
            [u, v]
        )
        boxes.append((corners.min(axis=0), corners.max(axis=0)))

    furniture = _furniture(rng, config, (sx, sy, sz))
    for faces, bounds in furniture:
        geometry += faces
        boxes.extend(bounds)
    structure_prob = config.structure_low_texture_prob
    if structure_prob is None:  # one call, as the first recipe drew its rooms
        quads = _make_quads(rng, config, atlas.num_tiles, geometry, ambient, light, low_range)
    else:
        quads = Quads.cat(
            [
                _make_quads(rng, config, atlas.num_tiles, geometry[:num_structure], ambient, light, low_range,
                            low_texture_prob=structure_prob),
                _make_quads(rng, config, atlas.num_tiles, geometry[num_structure:], ambient, light, low_range),
            ]
        )  # fmt: skip
    lights = _ceiling_lights(rng, config, (sx, sy, sz), ambient)
    logger.debug("scene %d: %.1f x %.1f x %.1f m, %d quads", seed, sx, sy, sz, len(quads))
    return Scene(quads, atlas, (sx, sy, sz), config, seed, boxes, lights)


def _ceiling_lights(
    rng: np.random.Generator, config: SceneConfig, size: tuple[float, float, float], ambient: float
) -> Lights | None:
    low, high = config.point_lights
    if high == 0:
        return None
    count = int(rng.integers(low, high + 1))
    sx, sy, sz = size
    position = np.stack(
        [rng.uniform(0.2 * sx, 0.8 * sx, count), rng.uniform(0.2 * sy, 0.8 * sy, count), np.full(count, sz - 0.1)],
        axis=1,
    )
    # powers chosen so a surface 2 m under one light gets about as much light as the flat shading
    power = rng.uniform(0.8, 2.5, count) / max(count, 1) ** 0.5
    return Lights(position, power, rng.uniform(*config.light_falloff_m, count), 0.35 * ambient)


Geometry = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _wall_frame(rng: np.random.Generator, size: tuple[float, float, float], inset: float) -> tuple:
    """A random wall: (origin on the floor, unit direction along it, unit normal into the room, length)."""
    sx, sy, _ = size
    wall = int(rng.integers(0, 4))
    frames = [
        (np.array([0.0, inset, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), sx),
        (np.array([0.0, sy - inset, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0]), sx),
        (np.array([inset, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), sy),
        (np.array([sx - inset, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([-1.0, 0.0, 0.0]), sy),
    ]
    return frames[wall]


def _bounds(points: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.array(points)
    return stacked.min(axis=0), stacked.max(axis=0)


def _clutter(
    rng: np.random.Generator, count: tuple[int, int], corner: np.ndarray, along: np.ndarray, across: np.ndarray,
    max_height: float,
) -> Geometry:
    """Small boxes standing on the surface ``corner + a * along + b * across`` (a, b in [0, 1]): desk clutter."""
    if count[1] == 0:
        return []
    faces: Geometry = []
    up = np.array([0.0, 0.0, 1.0])
    unit_a, unit_b = along / np.linalg.norm(along), across / np.linalg.norm(across)
    length_a, length_b = float(np.linalg.norm(along)), float(np.linalg.norm(across))
    for _ in range(int(rng.integers(count[0], count[1] + 1))):
        sa, sb = rng.uniform(0.05, min(0.3, length_a * 0.4)), rng.uniform(0.05, min(0.3, length_b * 0.8))
        height = rng.uniform(0.05, max(0.06, min(0.35, max_height)))
        a, b = rng.uniform(0.0, 1.0 - sa / length_a), rng.uniform(0.0, 1.0 - sb / length_b)
        faces += _oriented_box(corner + a * along + b * across + up * 0.001, unit_a * sa, unit_b * sb, up * height)
    return faces


def _shelf(
    rng: np.random.Generator, size: tuple[float, float, float], clutter: tuple[int, int] = (0, 0)
) -> tuple[Geometry, list]:
    """Open shelving against a wall: back, two sides, top and 2-5 boards (each board's front edge too)."""
    origin, along, normal, length = _wall_frame(rng, size, inset=0.01)
    width, depth = rng.uniform(0.8, 2.0), rng.uniform(0.3, 0.45)
    height = rng.uniform(1.0, min(2.2, size[2] - 0.3))
    start = origin + along * rng.uniform(0.1, max(0.11, length - width - 0.1))
    up = np.array([0.0, 0.0, 1.0])
    faces: Geometry = [(start, along * width, up * height)]  # back
    for x in (0.0, width):  # sides
        faces.append((start + along * x, normal * depth, up * height))
    levels = np.concatenate([np.sort(rng.uniform(0.15, 0.9, int(rng.integers(2, 6)))), [1.0]]) * height
    previous = 0.0
    for z in levels:  # boards: top face and a 3 cm front edge; things stand on the boards below the top
        faces.append((start + up * z, along * width, normal * depth))
        faces.append((start + up * (z - 0.03) + normal * depth, along * width, up * 0.03))
        if previous > 0.0:
            faces += _clutter(rng, clutter, start + up * previous, along * width, normal * depth, z - previous - 0.05)
        previous = z
    return faces, [_bounds([start, start + along * width + normal * depth + up * height])]


def _door(
    rng: np.random.Generator, size: tuple[float, float, float], clutter: tuple[int, int] = (0, 0)
) -> tuple[Geometry, list]:
    """A door leaf 2 cm proud of a wall with a 7 cm frame around it."""
    origin, along, normal, length = _wall_frame(rng, size, inset=0.0)
    width, height = rng.uniform(0.75, 1.0), rng.uniform(1.95, min(2.2, size[2] - 0.2))
    start = origin + along * rng.uniform(0.2, max(0.21, length - width - 0.2))
    up = np.array([0.0, 0.0, 1.0])
    leaf = start + normal * 0.02
    frame = start + normal * 0.03
    faces: Geometry = [
        (leaf, along * width, up * height),
        (frame - along * 0.07, along * 0.07, up * (height + 0.07)),
        (frame + along * width, along * 0.07, up * (height + 0.07)),
        (frame + up * height, along * width, up * 0.07),
    ]
    return faces, []  # flush with the wall: cameras keep away from walls anyway


def _table(
    rng: np.random.Generator, size: tuple[float, float, float], clutter: tuple[int, int] = (0, 0)
) -> tuple[Geometry, list]:
    """A table near a wall: a 4 cm thick top on four 5 cm legs."""
    origin, along, normal, length = _wall_frame(rng, size, inset=rng.uniform(0.05, 0.6))
    width, depth, height = rng.uniform(0.8, 1.6), rng.uniform(0.6, 0.9), rng.uniform(0.7, 0.78)
    start = origin + along * rng.uniform(0.1, max(0.11, length - width - 0.1))
    up = np.array([0.0, 0.0, 1.0])
    low = start + up * (height - 0.04)
    faces: Geometry = _oriented_box(low, along * width, normal * depth, up * 0.04)
    for a in (0.03, width - 0.08):
        for b in (0.03, depth - 0.08):
            faces += _oriented_box(start + along * a + normal * b, along * 0.05, normal * 0.05, up * (height - 0.04))
    faces += _clutter(rng, clutter, start + up * height, along * width, normal * depth, 0.35)
    return faces, [_bounds([start, start + along * width + normal * depth + up * (height + 0.35)])]


def _oriented_box(corner: np.ndarray, ex: np.ndarray, ey: np.ndarray, ez: np.ndarray) -> Geometry:
    return [(corner, ex, ey), (corner + ez, ex, ey), (corner, ex, ez), (corner + ey, ex, ez), (corner, ey, ez),
            (corner + ex, ey, ez)]  # fmt: skip


def _furniture(
    rng: np.random.Generator, config: SceneConfig, size: tuple[float, float, float]
) -> list[tuple[Geometry, list]]:
    """Shelves, doors and tables, as configured (none in the first recipe's rooms, and no draws then)."""
    items = []
    for count, build in ((config.num_shelves, _shelf), (config.num_doors, _door), (config.num_tables, _table)):
        if count[1] == 0:
            continue
        items += [build(rng, size, config.clutter) for _ in range(int(rng.integers(count[0], count[1] + 1)))]
    return items


def _near_wall_point(
    rng: np.random.Generator, size: tuple[float, float], distance: tuple[float, float]
) -> np.ndarray:
    """A floor point (x, y) at a random distance from a random wall."""
    sx, sy = size
    d = rng.uniform(*distance)
    wall = int(rng.integers(0, 4))
    along = rng.uniform(0.1, 0.9)
    points = [(along * sx, d), (along * sx, sy - d), (d, along * sy), (sx - d, along * sy)]
    return np.array(points[wall])
