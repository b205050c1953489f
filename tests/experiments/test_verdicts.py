"""The verdict engine on cases whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from optimlab.experiments.verdicts import compare_pair, holm, seeds_needed, verdicts


def seeds(values) -> dict[int, float]:
    return {i: float(v) for i, v in enumerate(values)}


def noisy(mean: float, sd: float, n: int, seed: int) -> dict[int, float]:
    return seeds(np.random.default_rng(seed).normal(mean, sd, n))


def test_identical_runs_are_equivalent():
    a = seeds([0.88, 0.885, 0.879, 0.881, 0.884])
    c = compare_pair(a, dict(a), names=("adam", "adamw"))
    assert c.verdict == "equivalent" and c.difference == 0 and c.ci == (0.0, 0.0)
    assert c.paired and c.seeds == 5 and c.p_improvement == 0.5 and c.seeds_needed is None


def test_a_large_shift_is_better_and_the_reverse_is_worse():
    base = noisy(0.85, 0.002, 5, 0)
    shifted = {s: v + 0.05 + np.random.default_rng(s).normal(0, 0.001) for s, v in base.items()}
    better = compare_pair(shifted, base)
    worse = compare_pair(base, shifted)
    assert better.verdict == "better" and worse.verdict == "worse"
    assert better.ci[0] > 0 and worse.ci[1] < 0 and better.p < 1e-4
    assert better.p_improvement == 1.0 and worse.p_improvement == 0.0
    # With 5 seeds the exact sign-flip test cannot go below 2 / 2**5 = 0.0625.
    assert better.p_permutation == pytest.approx(0.0625)


def test_lower_is_better_for_a_loss():
    low, high = noisy(0.30, 0.002, 5, 1), noisy(0.40, 0.002, 5, 2)
    c = compare_pair(low, high, metric="final_loss", higher_is_better=False)
    assert c.difference < 0 and c.verdict == "better" and c.p_improvement == 1.0


def test_paired_interval_and_p_match_scipy():
    a, b = noisy(0.85, 0.01, 8, 3), noisy(0.84, 0.01, 8, 4)
    c = compare_pair(a, b, seed=7)
    x, y = np.array(list(a.values())), np.array(list(b.values()))
    assert c.p == pytest.approx(stats.ttest_rel(x, y).pvalue, rel=1e-12)
    expected = stats.bootstrap(
        (x - y,), np.mean, confidence_level=0.95, n_resamples=9999, method="BCa",
        rng=np.random.default_rng(7),
    ).confidence_interval  # fmt: skip
    assert c.ci == pytest.approx((expected.low, expected.high), rel=1e-9)
    assert c.ci_method == "BCa" and c.paired


def test_unpaired_when_the_seeds_differ_and_it_matches_welch():
    a = {0: 0.80, 1: 0.82, 2: 0.81, 3: 0.83}
    b = {10: 0.78, 11: 0.79, 12: 0.775}
    c = compare_pair(a, b)
    assert not c.paired
    x, y = np.array(list(a.values())), np.array(list(b.values()))
    assert c.p == pytest.approx(stats.ttest_ind(x, y, equal_var=False).pvalue, rel=1e-12)
    assert c.difference == pytest.approx(x.mean() - y.mean())


def test_holm_matches_a_hand_computed_case():
    # sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06)
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_every_pair_is_compared_and_adjusted():
    values = {"a": noisy(0.9, 0.002, 5, 5), "b": noisy(0.8, 0.002, 5, 6),
              "c": noisy(0.9, 0.002, 5, 7)}  # fmt: skip
    result = verdicts(values, rope=0.01)
    assert [(c.a, c.b) for c in result] == [("a", "b"), ("a", "c"), ("b", "c")]
    assert holm([compare_pair(values[c.a], values[c.b], rope=0.01).p for c in result]) == [
        c.p_adjusted for c in result
    ]
    by = {(c.a, c.b): c.verdict for c in result}
    assert by[("a", "b")] == "better" and by[("b", "c")] == "worse"


def test_a_small_shift_with_few_seeds_is_undetermined_and_says_how_many_would_tell():
    a, b = seeds([0.856, 0.850, 0.862]), seeds([0.850, 0.852, 0.850])  # diffs .006 -.002 .012
    c = compare_pair(a, b, rope=0.0)
    assert c.verdict == "undetermined" and 0.1 < c.p < 0.5
    diffs = np.array([0.006, -0.002, 0.012])
    assert c.seeds_needed == seeds_needed(diffs.mean(), diffs.std(ddof=1)) > 3


@pytest.mark.parametrize(("effect", "n"), [(1.0, 10), (0.5, 34), (2.0, 5)])
def test_seeds_needed_is_the_textbook_paired_t_sample_size(effect, n):
    """Cohen's d and the two-sided paired t-test at alpha 0.05, power 0.8 (G*Power)."""
    assert seeds_needed(effect, 1.0) == n


def test_seeds_needed_resolves_about_80_percent_of_simulated_sweeps():
    sd, shift = 1.0, 0.7
    n = seeds_needed(shift, sd)
    rng = np.random.default_rng(0)
    resolved = 0
    draws = 400
    for _ in range(draws):
        diffs = rng.normal(shift, sd, n)
        resolved += stats.ttest_1samp(diffs, 0.0).pvalue < 0.05
    assert 0.74 <= resolved / draws <= 0.88


def test_bad_options_are_named():
    a = seeds([1, 2, 3])
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\); received"):
        compare_pair(a, a, confidence=95)
    with pytest.raises(ValueError, match=r"rope must be >= 0; received rope=-1"):
        compare_pair(a, a, rope=-1)
    with pytest.raises(ValueError, match=r"a against b: each needs at least two seeds"):
        compare_pair({0: 1.0}, {0: 1.0})


def test_a_pair_that_holm_makes_undetermined_says_how_many_seeds_would_tell():
    """Alone p = 0.024 (better). With copies of both, four comparisons tie at that p and
    two are identical; Holm multiplies the smallest by the six comparisons made."""
    a = seeds([0.856, 0.862, 0.859, 0.861, 0.857])
    b = seeds([0.853, 0.858, 0.852, 0.851, 0.855])
    alone = compare_pair(a, b, rope=0.0)
    assert alone.verdict == "better" and alone.seeds_needed is None
    result = verdicts({"a": a, "b": b, "a2": dict(a), "b2": dict(b)}, rope=0.0)
    by = {(c.a, c.b): c for c in result}
    ab = by[("a", "b")]
    assert ab.p_adjusted == pytest.approx(6 * alone.p)
    assert ab.verdict == "undetermined" and ab.seeds_needed is not None and ab.seeds_needed > 5
    assert by[("a", "a2")].verdict == "equivalent" and by[("a", "a2")].seeds_needed is None


def test_among_m_comparisons_the_seeds_needed_are_for_holms_strictest_step():
    """Six comparisons: the seeds that resolve a pair whatever its Holm rank are those of
    a test at 0.05 / 6."""
    a = seeds([0.856, 0.862, 0.859, 0.861, 0.857])
    b = seeds([0.853, 0.858, 0.852, 0.851, 0.855])
    result = verdicts({"a": a, "b": b, "a2": dict(a), "b2": dict(b)}, rope=0.0)
    ab = next(c for c in result if (c.a, c.b) == ("a", "b"))
    diffs = np.array([a[s] - b[s] for s in a])
    spread = diffs.std(ddof=1)
    assert ab.seeds_needed == seeds_needed(diffs.mean(), spread, alpha=0.05 / 6)
    assert ab.seeds_needed > seeds_needed(diffs.mean(), spread)
