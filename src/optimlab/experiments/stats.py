"""Statistics of a sweep: means over seeds and Welch's t-test, without SciPy.

The Student-t distribution function comes from the regularized incomplete
beta function, evaluated by its continued fraction (Numerical Recipes, 6.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Significance level of the two-sided tests.
ALPHA = 0.05


@dataclass(frozen=True)
class Stat:
    """Values over seeds with their mean and sample standard deviation (``ddof=1``)."""

    values: tuple[float, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return math.fsum(self.values) / self.n if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation; ``None`` with fewer than two values."""
        if self.n < 2:
            return None
        mean = math.fsum(self.values) / self.n
        return math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / (self.n - 1))

    @property
    def min(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """:math:`I_x(a, b)`, by the continued fraction of Numerical Recipes §6.4 (modified Lentz).

    Parameters
    ----------
    a, b : float
        Positive shape parameters.
    x : float
        In ``[0, 1]``.
    """
    if not (a > 0 and b > 0):
        raise ValueError(f"incomplete beta: a and b must be > 0; received a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"incomplete beta: x must be in [0, 1]; received x={x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            return result
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` (> 0, not necessarily whole) degrees of freedom."""
    if not df > 0:
        raise ValueError(f"student_t_cdf: df must be > 0; received df={df}")
    if math.isnan(t):
        raise ValueError("student_t_cdf: t must be a number; received t=nan")
    tail = 0.5 * regularized_incomplete_beta(df / 2, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if not df > 0:
        raise ValueError(f"two_sided_p: df must be > 0; received df={df}")
    if math.isnan(t):
        raise ValueError("two_sided_p: t must be a number; received t=nan")
    return regularized_incomplete_beta(df / 2, 0.5, df / (df + t * t))


@dataclass(frozen=True)
class Welch:
    """Welch's unequal-variance t-test of ``mean(a) - mean(b)``.

    ``standard_error`` is ``sqrt(var_a / n_a + var_b / n_b)``, ``df`` the
    Welch-Satterthwaite degrees of freedom. When both samples are constant the
    standard error is 0: ``p`` is 1 for equal means and 0 otherwise (``df`` None).
    """

    difference: float
    standard_error: float
    t: float
    df: float | None
    p: float

    @property
    def within_noise(self) -> bool:
        return self.p >= ALPHA


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> Welch | None:
    """Welch's t-test of two samples; ``None`` when either has fewer than two values."""
    sa, sb = Stat(tuple(a)), Stat(tuple(b))
    if sa.n < 2 or sb.n < 2:
        return None
    qa, qb = sa.std**2 / sa.n, sb.std**2 / sb.n
    difference = sa.mean - sb.mean
    if qa + qb == 0:
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return Welch(difference, 0.0, t, None, 1.0 if difference == 0 else 0.0)
    se = math.sqrt(qa + qb)
    df = (qa + qb) ** 2 / (qa**2 / (sa.n - 1) + qb**2 / (sb.n - 1))
    t = difference / se
    return Welch(difference, se, t, df, two_sided_p(t, df))


# -- runs and cells -------------------------------------------------------------------
