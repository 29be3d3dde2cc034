"""End to end on rendered synthetic sequences: the localization core's accuracy figure (no ROS, no bag).

Each seed renders a loop through its own room (:func:`loftr_ros.synthetic.make_sequence`): every
``keyframe_every``-th frame becomes an RGB-D keyframe with its true pose, the others are queries. Queries
can carry a prior as a robot's odometry would give it: the true pose disturbed by a fixed noise level.
Rooms are covered with tiled photographs, so that a wall's texture repeats every 0.5 to 2 m; a query
that sees a single wall can fit several periods, which is what the prior is for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from loftr_ros.errors import ConfigError
from loftr_ros.evaluation.report import FrameRecord
from loftr_ros.localization.config import LocalizerConfig
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.types import Keyframe, Matcher
from loftr_ros.transforms import so3_exp

if TYPE_CHECKING:  # the renderer (torch) loads only when sequences are made
    from loftr_ros.synthetic.pairs import Sequence

PRIORS = ("none", "odometry")


@dataclass(frozen=True)
class SequenceRun:
    """Which sequences are rendered and how queries are localized."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # one room and trajectory per seed
    frames: int = 40  # frames along each trajectory (keyframes and queries)
    keyframe_every: int = 2  # every n-th frame is a keyframe
    max_queries: int = 0  # localize at most this many queries per sequence, evenly spread (0 = all)
    width: int = 320
    height: int = 240
    prior: str = "none"  # "odometry": the true pose plus noise narrows retrieval and gates jumps
    prior_noise_m: float = 0.2  # odometry prior's position error (std of its norm), metres
    prior_noise_deg: float = 3.0  # odometry prior's rotation error (std of its angle), degrees

    @property
    def num_queries(self) -> int:
        """Queries localized over all seeds (every frame that is not a keyframe, up to ``max_queries``)."""
        per_sequence = self.frames - len(range(0, self.frames, self.keyframe_every))
        if self.max_queries:
            per_sequence = min(per_sequence, self.max_queries)
        return len(self.seeds) * per_sequence

    def validate(self) -> None:
        if self.prior not in PRIORS:
            raise ConfigError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if not self.seeds or self.frames < 2 or self.keyframe_every < 2:
            msg = "SequenceRun needs seeds, frames >= 2 and keyframe_every >= 2 (queries between keyframes)"
            raise ConfigError(msg)
        if self.max_queries < 0 or min(self.width, self.height) < 32:
            raise ConfigError("SequenceRun needs max_queries >= 0 and images of at least 32x32")
        if min(self.prior_noise_m, self.prior_noise_deg) < 0:
            raise ConfigError("SequenceRun needs non-negative prior noise")


def noisy_prior(T: np.ndarray, rng: np.random.Generator, noise_m: float, noise_deg: float) -> np.ndarray:
    """``T`` displaced by an isotropic position error and rotated by a random small rotation."""
    prior = T.copy()
    prior[:3, 3] += rng.normal(0, noise_m / np.sqrt(3), 3)
    prior[:3, :3] = so3_exp(rng.normal(0, np.deg2rad(noise_deg) / np.sqrt(3), 3)) @ T[:3, :3]
    return prior


def sequence_keyframes(sequence: Sequence) -> list[Keyframe]:
    """A rendered sequence's keyframes as map keyframes, ids ``kf<frame index>``."""
    return [
        Keyframe(f"kf{index:04d}", index, "map", view.image, view.intrinsics, view.T_world_camera, view.depth)
        for index, view in zip(sequence.keyframe_indices, sequence.keyframes, strict=True)
    ]


def run_sequences(
    matcher: Matcher,
    run: SequenceRun,
    config: LocalizerConfig | None = None,
    on_frame: Callable[[int, FrameRecord], None] | None = None,
) -> Iterator[tuple[int, list[FrameRecord]]]:
    """Localize every query of every seed's sequence; yields (seed, records) per sequence.

    ``on_frame(seed, record)`` is called after each query (progress). The prior's noise is drawn from
    a generator seeded by the sequence's seed: same run, same priors.
    """
    from loftr_ros.synthetic import PairConfig, make_sequence

    run.validate()
    for seed in run.seeds:
        sequence = make_sequence(
            seed, run.frames, run.keyframe_every, config=PairConfig(width=run.width, height=run.height)
        )
        localizer = Localizer(sequence_keyframes(sequence), matcher, config)
        rng = np.random.default_rng([seed, 17])
        records = []
        queries = list(zip(sequence.query_indices, sequence.queries, strict=True))
        if 0 < run.max_queries < len(queries):
            queries = [queries[i] for i in np.linspace(0, len(queries) - 1, run.max_queries).round().astype(int)]
        for index, view in queries:
            prior = None
            if run.prior == "odometry":
                prior = noisy_prior(view.T_world_camera, rng, run.prior_noise_m, run.prior_noise_deg)
            result = localizer.localize(view.image, view.intrinsics, index, prior)
            record = FrameRecord(
                index=index, stamp_ns=index, state=result.state.name, reason=result.reason,
                T_est=result.T_map_camera, T_gt=view.T_world_camera, num_matches=result.num_matches,
                num_inliers=result.num_inliers, reprojection_rmse_px=result.reprojection_rmse_px,
                keyframe_ids=list(result.keyframe_ids), timings=dict(result.timings),
            )  # fmt: skip
            records.append(record)
            if on_frame is not None:
                on_frame(seed, record)
        yield seed, records
