"""Performance profiles and the integrated score against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from optimlab.experiments.profiles import (
    bootstrap_profiles,
    integrated_score,
    median_time,
    profile,
    ratios,
)

INF = math.inf
# Three problems; "c" never reaches any target; nobody solves p3.
TIMES = {
    "p1": {"a": 100.0, "b": 200.0, "c": INF},
    "p2": {"a": 300.0, "b": 150.0, "c": INF},
    "p3": {"a": INF, "b": INF, "c": INF},
}


def test_ratios_by_hand():
    r = ratios(TIMES)
    assert r["p1"] == {"a": 1.0, "b": 2.0, "c": INF}
    assert r["p2"] == {"a": 2.0, "b": 1.0, "c": INF}
    assert r["p3"] == {"a": INF, "b": INF, "c": INF}  # no best: counts against everyone


def test_profiles_by_hand():
    taus = [1.0, 1.5, 2.0, 3.9]
    assert profile(TIMES, "a", taus) == [1 / 3, 1 / 3, 2 / 3, 2 / 3]
    assert profile(TIMES, "b", taus) == [1 / 3, 1 / 3, 2 / 3, 2 / 3]
    assert profile(TIMES, "c", taus) == [0.0, 0.0, 0.0, 0.0]


def test_integrated_score_by_hand():
    # a: ratios 1, 2, inf -> ((4 - 1) + (4 - 2) + 0) / (3 * 3) = 5/9
    assert integrated_score(TIMES, "a") == pytest.approx(5 / 9)
    assert integrated_score(TIMES, "b") == pytest.approx(5 / 9)
    assert integrated_score(TIMES, "c") == 0.0  # never reaches a target
    solo = {"p": {"a": 10.0, "b": 35.0, "c": 50.0}}  # ratios 1, 3.5, 5
    assert integrated_score(solo, "a") == 1.0  # fastest everywhere
    assert integrated_score(solo, "b") == pytest.approx(0.5 / 3)
    assert integrated_score(solo, "c") == 0.0  # beyond r_max = 4
    assert integrated_score(solo, "b", r_max=6.0) == pytest.approx(2.5 / 5)


def test_the_integral_matches_a_numerical_one():
    import numpy as np

    taus = np.linspace(1.0, 4.0, 300_001)
    for name in ("a", "b"):
        rho = np.asarray(profile(TIMES, name, taus))
        area = float(np.sum((rho[1:] + rho[:-1]) / 2 * np.diff(taus))) / 3.0
        assert area == pytest.approx(integrated_score(TIMES, name), abs=1e-4)


def test_median_time_counts_never_as_the_largest():
    assert median_time([10.0, INF, 30.0]) == 30.0
    assert median_time([10.0, INF, INF]) == INF
    assert median_time([]) == INF


def test_bootstrap_bands_hold_the_point_estimate_and_are_reproducible():
    samples = {
        "p1": {"a": [100.0, 110.0, 90.0], "b": [200.0, 210.0, INF]},
        "p2": {"a": [300.0, 320.0, 280.0], "b": [150.0, 140.0, 160.0]},
    }
    bands = bootstrap_profiles(samples, draws=200, seed=1)
    again = bootstrap_profiles(samples, draws=200, seed=1)
    assert bands == again
    a = bands["a"]
    assert a.score == pytest.approx(integrated_score(
        {"p1": {"a": 100.0, "b": 210.0}, "p2": {"a": 300.0, "b": 150.0}}, "a"))  # fmt: skip
    assert all(lo <= rho <= hi for lo, rho, hi in zip(a.low, a.rho, a.high, strict=True))
    assert a.score_low <= a.score <= a.score_high
    # one seed of b never reaches p1's target: some draws lose p1 for b
    assert bands["b"].score_low < bands["b"].score
