"""Performance profiles and AlgoPerf's integrated score, over the problems of a suite.

Dolan and Moré, "Benchmarking optimization software with performance profiles"
(Math. Programming 91, 2002), as AlgoPerf draws them (Dahl et al., arXiv:2306.07179):
with :math:`t_{p,o}` the time optimizer :math:`o` needs to reach problem :math:`p`'s
target (infinite when it never does),

.. math::

    r_{p,o} = \\frac{t_{p,o}}{\\min_{o'} t_{p,o'}}, \\qquad
    \\rho_o(\\tau) = \\frac{1}{|P|} \\#\\{p : r_{p,o} \\le \\tau\\},

the share of problems on which :math:`o` is within a factor :math:`\\tau` of the
fastest. A problem no optimizer solves counts against every one. AlgoPerf's
benchmark score integrates the profile from 1 to :math:`r_{max} = 4`, normalised to [0, 1]:

.. math::

    B_o = \\frac{1}{r_{max} - 1} \\int_1^{r_{max}} \\rho_o(\\tau)\\, d\\tau
        = \\frac{1}{|P|} \\sum_p \\frac{\\max(0, r_{max} - r_{p,o})}{r_{max} - 1},

exact for the step function :math:`\\rho_o` (:func:`integrated_score`). Uncertainty:
:func:`bootstrap_profiles` resamples each (problem, optimizer)'s seeds with
replacement and recomputes the times (their median), the ratios and the profiles.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: AlgoPerf's upper end of the profile and of the integral.
R_MAX = 4.0
#: Where the profiles are evaluated (1 to R_MAX).
TAUS = tuple(float(t) for t in np.linspace(1.0, R_MAX, 301))

#: times[problem][optimizer] = time to target (math.inf: never reached).
Times = Mapping[str, Mapping[str, float]]


def ratios(times: Times) -> dict[str, dict[str, float]]:
    """``r[problem][optimizer]``: the time over the problem's fastest (``inf`` when the
    optimizer never reaches the target, or when no optimizer does)."""
    found = {}
    for problem, row in times.items():
        best = min(row.values(), default=math.inf)
        found[problem] = {
            name: (t / best if math.isfinite(t) and math.isfinite(best) and best > 0
                   else (1.0 if t == best == 0 else math.inf))
            for name, t in row.items()
        }  # fmt: skip
    return found


def profile(times: Times, optimizer: str, taus: Sequence[float] = TAUS) -> list[float]:
    """rho_optimizer(tau) at every tau: the share of problems within tau of the best."""
    r = ratios(times)
    problems = list(r)
    if not problems:
        return [0.0 for _ in taus]
    values = [r[p].get(optimizer, math.inf) for p in problems]
    return [sum(v <= tau for v in values) / len(problems) for tau in taus]


def integrated_score(times: Times, optimizer: str, r_max: float = R_MAX) -> float:
    """AlgoPerf's benchmark score: the area under the profile from 1 to ``r_max`` over
    ``r_max - 1`` (1: fastest on every problem; 0: never within ``r_max`` of the best)."""
    r = ratios(times)
    if not r:
        return 0.0
    total = sum(max(0.0, r_max - max(1.0, r[p].get(optimizer, math.inf))) for p in r)
    return total / ((r_max - 1.0) * len(r))


def median_time(values: Sequence[float]) -> float:
    """The median of per-seed (or per-study) times, ``inf`` counted as the largest."""
    return statistics.median(values) if values else math.inf


@dataclass(frozen=True)
class ProfileBand:
    """One optimizer's profile: the point estimate and a bootstrap band (per tau)."""

    optimizer: str
    taus: tuple[float, ...]
    rho: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    score: float
    score_low: float
    score_high: float


def bootstrap_profiles(
    samples: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    draws: int = 1000,
    level: float = 0.9,
    seed: int = 0,
    taus: Sequence[float] = TAUS,
) -> dict[str, ProfileBand]:
    """Profiles from per-seed times ``samples[problem][optimizer]`` (each reduced to its
    median), with ``level`` bootstrap bands: every draw resamples each cell's seeds with
    replacement (``numpy.random.Generator`` seeded by ``seed``)."""
    optimizers = sorted({o for row in samples.values() for o in row})
    point = {p: {o: median_time(v) for o, v in row.items()} for p, row in samples.items()}
    rng = np.random.default_rng(seed)
    profiles: dict[str, list[list[float]]] = {o: [] for o in optimizers}
    scores: dict[str, list[float]] = {o: [] for o in optimizers}
    for _ in range(draws):
        drawn = {
            p: {o: median_time([v[i] for i in rng.integers(0, len(v), len(v))]) if v else math.inf
                for o, v in row.items()}
            for p, row in samples.items()
        }  # fmt: skip
        for o in optimizers:
            profiles[o].append(profile(drawn, o, taus))
            scores[o].append(integrated_score(drawn, o))
    tail = (1.0 - level) / 2.0
    bands = {}
    for o in optimizers:
        grid = np.asarray(profiles[o]) if draws else np.zeros((0, len(taus)))
        low = np.quantile(grid, tail, axis=0) if draws else np.asarray(profile(point, o, taus))
        high = np.quantile(grid, 1 - tail, axis=0) if draws else low
        s = np.asarray(scores[o]) if draws else np.asarray([integrated_score(point, o)])
        bands[o] = ProfileBand(
            o, tuple(taus), tuple(profile(point, o, taus)), tuple(map(float, low)),
            tuple(map(float, high)), integrated_score(point, o), float(np.quantile(s, tail)),
            float(np.quantile(s, 1 - tail)),
        )  # fmt: skip
    return bands
