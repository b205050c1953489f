"""Is optimizer A better than B here, or is the difference noise? Paired verdicts over seeds.

For two optimizers with one value per seed (a validation accuracy, a loss...),
:func:`compare_pair` gives

- the mean difference ``a - b`` over the seeds both ran (**paired** by seed:
  seed k gives every optimizer the same split, initial weights and batch
  order), or of the means when the seeds differ (**unpaired**, and it says so);
- a bootstrap confidence interval of that difference (SciPy's ``bootstrap``,
  BCa, percentile when BCa cannot be computed: with two seeds or tied
  resamples), at ``confidence`` (default 95%);
- the two-sided p-value of the paired t-test (``scipy.stats.ttest_rel``;
  Welch's ``ttest_ind`` when unpaired) and, beside it, the exact sign-flip
  permutation p-value (which cannot go below ``2 / 2**n``: 0.25 with 3 seeds,
  0.0625 with 5, so it reports, it does not decide);
- the probability of improvement ``P(A > B)`` over seeds (ties count half);
- the number of seeds a paired t-test would need to detect the observed
  difference (or, when it is smaller, the region of practical equivalence) at
  80% power, from the observed spread; among ``m`` comparisons
  (:func:`compare_pairs`), at the level ``alpha / m`` of Holm's strictest step,
  so that that many seeds resolve the pair whatever its rank.

:func:`verdicts` compares every unordered pair, adjusts the p-values for the
number of comparisons made (Holm, :func:`holm`), and gives each pair one of
four verdicts:

``better`` / ``worse``
    the adjusted p-value is below ``alpha`` **and** the interval excludes 0
    (on the side of the verdict);
``equivalent``
    the whole interval lies inside the region of practical equivalence
    ``[-rope, rope]`` (identical runs are equivalent);
``undetermined``
    anything else: more seeds would tell (``seeds_needed``).

The metric's direction matters: for a loss, lower is better
(``higher_is_better=False``), and ``better`` then means a lower value.
No plotting here; the report draws what this returns.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

#: Default region of practical equivalence in accuracy: 0.1 percentage points,
#: below the seed-to-seed spread of every Fashion-MNIST problem here (0.1-0.3).
ROPE_ACCURACY = 0.001
ALPHA = 0.05
POWER = 0.8
MAX_SEEDS = 10_000

VERDICTS = ("better", "worse", "equivalent", "undetermined")


@dataclass(frozen=True)
class Comparison:
    """One pair's comparison (``difference`` is ``a - b``); the fields of verdicts.json.

    The statistics are ``None`` when a side has fewer than two seeds (``note`` says
    so): the noise cannot be judged and the verdict is ``undetermined``. ``lr_a`` and
    ``lr_b`` are the rates compared when the values come from a sweep.
    """

    a: str
    b: str
    metric: str
    difference: float | None
    ci: tuple[float | None, float | None]
    p: float | None
    p_adjusted: float | None
    p_permutation: float | None
    verdict: str
    seeds: int
    seeds_needed: int | None
    paired: bool
    p_improvement: float | None
    ci_method: str | None
    lr_a: float | None = None
    lr_b: float | None = None
    note: str | None = None

    def record(self) -> dict:
        """The comparison as JSON-ready values (a non-finite number becomes ``None``)."""
        record = {k: _finite(v) for k, v in asdict(self).items()}
        record["ci"] = [_finite(v) for v in self.ci]
        return record


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: ``p_(i) * (m - i)``, made monotone, at most 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def seeds_needed(difference: float, spread: float, *, alpha: float = ALPHA,
                 power: float = POWER) -> int | None:  # fmt: skip
    """The smallest number of paired seeds whose two-sided t-test at ``alpha`` detects a
    true mean difference ``difference`` with ``power``, when the differences spread with
    standard deviation ``spread`` (noncentral t). ``None`` if it takes more than 10,000.

    The power grows with the number of seeds, so the search is exhaustive up to 64
    seeds and by doubling and bisection beyond.
    """
    if spread <= 0 or not math.isfinite(spread):
        return 2 if difference != 0 else None
    effect = abs(difference) / spread
    if effect == 0 or not math.isfinite(effect):
        return None if effect == 0 else 2

    def achieved(n: np.ndarray) -> np.ndarray:
        df = n - 1
        critical = stats.t.ppf(1 - alpha / 2, df)
        nc = effect * np.sqrt(n)
        return stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc)

    first = np.arange(2, 65)
    reached = np.nonzero(achieved(first) >= power)[0]
    if reached.size:
        return int(first[reached[0]])
    low, high = 64, 128  # achieved(low) < power
    while achieved(np.array([min(high, MAX_SEEDS)]))[0] < power:
        if high >= MAX_SEEDS:
            return None
        low, high = high, 2 * high
    high = min(high, MAX_SEEDS)
    while high - low > 1:  # achieved(low) < power <= achieved(high)
        middle = (low + high) // 2
        if achieved(np.array([middle]))[0] >= power:
            high = middle
        else:
            low = middle
    return high


def compare_pair(a: Mapping[int, float], b: Mapping[int, float], **options: Any) -> Comparison:
    """Compare the per-seed values ``a`` and ``b`` (``{seed: value}``); ``p_adjusted`` is
    ``p`` (one comparison) until :func:`verdicts` adjusts it for all of them.

    Options: ``names=("a", "b")``, ``metric``, ``higher_is_better=True``,
    ``rope`` (default :data:`ROPE_ACCURACY`), ``confidence=0.95``, ``alpha=0.05``,
    ``seed=0`` (of the bootstrap and permutation draws).
    """
    return _compare(a, b, **options)[0]


def _compare(
    a: Mapping[int, float], b: Mapping[int, float], *, names: tuple[str, str] = ("a", "b"),
    metric: str = "best_val_accuracy", higher_is_better: bool = True, rope: float = ROPE_ACCURACY,
    confidence: float = 0.95, alpha: float = ALPHA, seed: int = 0,
) -> tuple[Comparison, int | None]:  # fmt: skip
    """:func:`compare_pair`, and ``(target, spread)``: what :func:`seeds_needed` takes."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); received confidence={confidence!r}")
    if not rope >= 0:
        raise ValueError(f"rope must be >= 0; received rope={rope!r}")
    shared = sorted(set(a) & set(b))
    paired = len(shared) >= 2 and set(a) == set(b)
    if paired:
        x = np.array([a[s] for s in shared], dtype=np.float64)
        y = np.array([b[s] for s in shared], dtype=np.float64)
    else:
        x = np.array(list(a.values()), dtype=np.float64)
        y = np.array(list(b.values()), dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(
            f"{names[0]} against {names[1]}: each needs at least two seeds; received "
            f"{len(x)} and {len(y)}"
        )
    rng = np.random.default_rng(seed)
    if paired:
        diffs = x - y
        difference = float(diffs.mean())
        spread = _spread(float(diffs.std(ddof=1)), x, y)
        if spread == 0.0:  # identical (or uniformly shifted) runs: no noise to test against
            ci, method = (difference, difference), "exact (no spread)"
            p = 1.0 if difference == 0 else 0.0
        else:
            ci, method = _bootstrap((diffs,), confidence, rng, paired=True)
            p = float(stats.ttest_rel(x, y).pvalue)
        p_perm = _sign_flip(x, y, rng)
        improvement = float(np.mean(np.where(diffs > 0, 1.0, np.where(diffs == 0, 0.5, 0.0))))
        n = len(diffs)
    else:
        difference = float(x.mean() - y.mean())
        spread = _spread(math.sqrt(x.var(ddof=1) + y.var(ddof=1)), x, y)
        if spread == 0.0:
            ci, method = (difference, difference), "exact (no spread)"
            p = 1.0 if difference == 0 else 0.0
        else:
            ci, method = _bootstrap((x, y), confidence, rng, paired=False)
            p = float(stats.ttest_ind(x, y, equal_var=False).pvalue)
        p_perm = float(
            stats.permutation_test(
                (x, y),
                lambda u, v: np.mean(u) - np.mean(v),
                permutation_type="independent",
                n_resamples=9999,
                rng=rng,
            ).pvalue
        )
        greater = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
        improvement = float(greater.mean())
        n = min(len(x), len(y))
    sign = 1.0 if higher_is_better else -1.0
    verdict = _verdict(sign * difference, (sign * ci[0], sign * ci[1]), p, rope, alpha)
    if not higher_is_better:
        improvement = 1.0 - improvement  # P(A better than B): A lower
    # Kept for every pair: compare_pairs() may turn one undetermined, at a stricter level.
    target = max(abs(difference), rope) if rope > 0 else abs(difference)
    needed = seeds_needed(target, spread, alpha=alpha) if verdict == "undetermined" else None
    comparison = Comparison(
        a=names[0], b=names[1], metric=metric, difference=difference,
        ci=(float(ci[0]), float(ci[1])), p=p, p_adjusted=p, p_permutation=p_perm,
        verdict=verdict, seeds=n, seeds_needed=needed if verdict == "undetermined" else None,
        paired=paired, p_improvement=improvement, ci_method=method,
    )  # fmt: skip
    return comparison, (target, spread)


def verdicts(
    values: Mapping[str, Mapping[int, float]], *, alpha: float = ALPHA, **options: object
) -> list[Comparison]:
    """Every unordered pair of ``values`` (``{optimizer: {seed: value}}``), in the order
    given, with Holm-adjusted p-values and the verdicts they imply."""
    pairs = [((a, b), values[a], values[b]) for a, b in itertools.combinations(values, 2)]
    return compare_pairs(pairs, alpha=alpha, **options)


def compare_pairs(
    pairs: Sequence[tuple[tuple[str, str], Mapping[int, float], Mapping[int, float]]],
    *, alpha: float = ALPHA, **options: Any,
) -> list[Comparison]:  # fmt: skip
    """Compare each ``((name_a, name_b), values_a, values_b)`` of ``pairs``, adjusting the
    p-values for all of them together (Holm) before giving the verdicts.

    A pair in which a side has fewer than two seeds is ``undetermined`` with no
    statistics (a note says why) and is not counted among the comparisons made.
    Options as for :func:`compare_pair`.
    """
    compared: list[tuple[Comparison, tuple[float, float] | None]] = []
    for names, a, b in pairs:
        if min(len(a), len(b)) < 2:
            compared.append((_unjudged(names, a, b, options.get("metric")), None))
        else:
            compared.append(_compare(a, b, names=names, alpha=alpha, **options))
    tested = [i for i, (c, _) in enumerate(compared) if c.p is not None]
    adjusted = dict(zip(tested, holm([compared[i][0].p for i in tested]), strict=True))
    rope = float(options.get("rope", ROPE_ACCURACY))
    sign = 1.0 if options.get("higher_is_better", True) else -1.0
    # Holm's strictest step tests at alpha / m: enough seeds for it resolve the pair
    # whatever its rank among the m comparisons.
    strict = alpha / max(1, len(tested))
    result = []
    for i, (c, need) in enumerate(compared):
        if i not in adjusted or need is None:
            result.append(c)
            continue
        p_adj = adjusted[i]
        oriented = (sign * c.ci[0], sign * c.ci[1])  # type: ignore[operator]
        verdict = _verdict(sign * c.difference, oriented, p_adj, rope, alpha)  # type: ignore[operator]
        seeds = seeds_needed(*need, alpha=strict) if verdict == "undetermined" else None
        result.append(replace(c, p_adjusted=p_adj, verdict=verdict, seeds_needed=seeds))
    return result


def _unjudged(names: tuple[str, str], a: Mapping[int, float], b: Mapping[int, float],
              metric: object) -> Comparison:  # fmt: skip
    """The comparison of a pair with fewer than two seeds on a side: no statistics."""
    mean_a = float(np.mean(list(a.values()))) if a else None
    mean_b = float(np.mean(list(b.values()))) if b else None
    difference = None if mean_a is None or mean_b is None else mean_a - mean_b
    return Comparison(
        a=names[0], b=names[1], metric=str(metric or "best_val_accuracy"),
        difference=difference, ci=(None, None), p=None, p_adjusted=None, p_permutation=None,
        verdict="undetermined", seeds=min(len(a), len(b)), seeds_needed=None,
        paired=set(a) == set(b), p_improvement=None, ci_method=None,
        note=f"{len(a)} and {len(b)} scored seeds: a side with fewer than two, so the "
        "noise of the seeds cannot be judged",
    )  # fmt: skip


#: A spread below this fraction of the values is rounding, not noise between seeds.
ROUNDING = 1e-12


def _spread(spread: float, x: np.ndarray, y: np.ndarray) -> float:
    """``spread``, or 0 when it is only the rounding of the values (the same runs whose
    numbers went through different sums): nothing to test against."""
    scale = max(float(np.max(np.abs(x))), float(np.max(np.abs(y))), 1e-300)
    return 0.0 if spread <= ROUNDING * scale else spread


def _verdict(difference: float, ci: tuple[float, float], p: float, rope: float,
             alpha: float) -> str:  # fmt: skip
    """The verdict for a difference oriented so that positive is better."""
    low, high = min(ci), max(ci)
    if -rope <= low and high <= rope:
        return "equivalent"
    if p < alpha and low > 0:
        return "better"
    if p < alpha and high < 0:
        return "worse"
    return "undetermined"


def _bootstrap(data: tuple, confidence: float, rng: np.random.Generator, *,
               paired: bool) -> tuple[tuple[float, float], str]:  # fmt: skip
    """The bootstrap interval of the mean (difference): BCa, else percentile."""

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        if paired:
            return np.mean(samples[0], axis=axis)
        return np.mean(samples[0], axis=axis) - np.mean(samples[1], axis=axis)

    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"):
            try:
                result = stats.bootstrap(
                    data, statistic, confidence_level=confidence, n_resamples=9999,
                    method=method, vectorized=True, rng=rng,
                )  # fmt: skip
            except (ValueError, RuntimeError):
                continue
        low, high = result.confidence_interval
        if math.isfinite(low) and math.isfinite(high):
            return (float(low), float(high)), method
    mean = float(statistic(*data))
    return (mean, mean), "degenerate"


def _sign_flip(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """The sign-flip permutation p-value of the mean paired difference (SciPy's
    ``permutation_test``: exact up to 13 seeds, 9,999 random flips beyond)."""

    def statistic(u: np.ndarray, v: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(u - v, axis=axis)

    return float(
        stats.permutation_test(
            (x, y),
            statistic,
            permutation_type="samples",
            n_resamples=9999,
            vectorized=True,
            rng=rng,
        ).pvalue
    )
