"""Hyperparameters as functions of the step count: learning-rate schedules and Demon.

A schedule is any callable ``schedule(count) -> float`` where ``count`` is the
number of steps already taken (0 at the first ``step()``); any hyperparameter
of any optimizer accepts one in place of a number. The ones here are frozen
dataclasses, so they compare by value, print their parameters and survive a
``state_dict()`` round trip. They return Python floats: a NumPy float64 would
silently upcast float32 arrays.

Examples
--------
>>> from optimlab.optim import schedules
>>> lr = schedules.warmup(schedules.cosine(0.1, total_steps=100), warmup_steps=10)
>>> round(lr(0), 4), round(lr(9), 4), round(lr(100), 4)
(0.01, 0.0976, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from optimlab._registry import Registry
from optimlab._validation import check_nonnegative, check_positive_int

__all__ = [
    "SCHEDULES",
    "Schedule",
    "constant",
    "cosine",
    "demon",
    "exponential",
    "make_lr_schedule",
    "step",
    "warmup",
]


class Schedule(Protocol):
    """A hyperparameter as a function of the step count (0 at the first step)."""

    def __call__(self, count: int) -> float: ...


@dataclass(frozen=True)
class Constant:
    """``value`` at every step."""

    value: float

    def __call__(self, count: int) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Step:
    r"""Multiply by ``gamma`` every ``step_size`` steps: :math:`v \gamma^{\lfloor t/s \rfloor}`."""

    value: float
    step_size: int
    gamma: float = 0.1

    def __call__(self, count: int) -> float:
        return float(self.value * self.gamma ** (count // self.step_size))


@dataclass(frozen=True)
class Exponential:
    r"""Multiply by ``gamma`` every step: :math:`v \gamma^t`."""

    value: float
    gamma: float

    def __call__(self, count: int) -> float:
        return float(self.value * self.gamma**count)


@dataclass(frozen=True)
class Cosine:
    r"""Cosine annealing (Loshchilov and Hutter, arXiv:1608.03983), without restarts.

    :math:`v_T + \tfrac12 (v - v_T)(1 + \cos(\pi \min(t, T) / T))`, held at
    ``final`` (:math:`v_T`) from ``total_steps`` (:math:`T`) on.
    """

    value: float
    total_steps: int
    final: float = 0.0

    def __call__(self, count: int) -> float:
        progress = min(count, self.total_steps) / self.total_steps
        return float(
            self.final + 0.5 * (self.value - self.final) * (1 + math.cos(math.pi * progress))
        )


@dataclass(frozen=True)
class Warmup:
    r"""Linear warm-up in front of another schedule: :math:`s(t) \min(1, (t+1)/W)`.

    The first step uses :math:`s(0)/W`, step :math:`W-1` the full value (as
    ``torch.optim.lr_scheduler.LinearLR`` from ``1/W``).
    """

    schedule: Any
    warmup_steps: int

    def __call__(self, count: int) -> float:
        base = self.schedule(count) if callable(self.schedule) else float(self.schedule)
        return float(base * min(1.0, (count + 1) / self.warmup_steps))


@dataclass(frozen=True)
class Demon:
    r"""Decaying momentum, Demon (Chen et al., arXiv:1910.04952).

    The momentum coefficient before step :math:`t` (0 at the first step) of :math:`T`:

    .. math::

        \beta_t = \frac{\beta_0 (1 - t/T)}{(1 - \beta_0) + \beta_0 (1 - t/T)}
        \quad (t < T), \qquad \beta_t = 0 \quad (t \ge T)

    which solves :math:`\beta_t / (1-\beta_t) = (1 - t/T)\, \beta_0 / (1-\beta_0)`:
    the total weight a gradient contributes to all later updates decays
    linearly to zero. The paper lets :math:`\beta_t` go negative after
    :math:`T`; optimlab holds it at 0, so that training past ``total_steps`` is
    plain (momentum-free) descent.
    """

    beta0: float
    total_steps: int

    def __call__(self, count: int) -> float:
        if count >= self.total_steps:
            return 0.0
        remaining = self.beta0 * (1.0 - count / self.total_steps)
        return float(remaining / ((1.0 - self.beta0) + remaining))


def constant(value: float) -> Constant:
    """The schedule that is always ``value``."""
    return Constant(float(value))


def step(value: float, step_size: int, gamma: float = 0.1) -> Step:
    """``value * gamma ** (count // step_size)``."""
    check_positive_int("step schedule", "step_size", step_size)
    check_nonnegative("step schedule", "gamma", gamma)
    return Step(float(value), step_size, float(gamma))


def exponential(value: float, gamma: float) -> Exponential:
    """``value * gamma ** count``."""
    check_nonnegative("exponential schedule", "gamma", gamma)
    return Exponential(float(value), float(gamma))


def cosine(value: float, total_steps: int, final: float = 0.0) -> Cosine:
    """Cosine annealing from ``value`` to ``final`` over ``total_steps``."""
    check_positive_int("cosine schedule", "total_steps", total_steps)
    return Cosine(float(value), total_steps, float(final))


def warmup(schedule: Any, warmup_steps: int) -> Warmup:
    """Linear warm-up over ``warmup_steps`` in front of ``schedule`` (or a number)."""
    check_positive_int("warmup", "warmup_steps", warmup_steps)
    return Warmup(schedule, warmup_steps)


def demon(beta0: float, total_steps: int) -> Demon:
    """Demon's decaying momentum coefficient, from ``beta0`` to 0 over ``total_steps``."""
    if isinstance(beta0, bool) or not isinstance(beta0, int | float) or not 0.0 <= beta0 < 1.0:
        raise ValueError(f"demon: the momentum coefficient must be in [0, 1); received {beta0!r}")
    check_positive_int("demon", "total_steps", total_steps)
    return Demon(float(beta0), total_steps)


#: Learning-rate schedules by name, for the command line and configs:
#: each takes ``(lr, total_steps)``.
SCHEDULES: Registry[Callable[[float, int], Any]] = Registry("schedule")
SCHEDULES.register("constant", lambda lr, total: constant(lr))
SCHEDULES.register("cosine", lambda lr, total: cosine(lr, total))
SCHEDULES.register("exponential", lambda lr, total: exponential(lr, 0.01 ** (1.0 / total)))
SCHEDULES.register("step", lambda lr, total: step(lr, max(1, total // 3), 0.1))
#: AlgoPerf's baseline shape: linear warm-up over the first 5% of the steps, then cosine.
WARMUP_FRACTION = 0.05
SCHEDULES.register(
    "warmup-cosine",
    lambda lr, total: warmup(cosine(lr, total), max(1, round(WARMUP_FRACTION * total))),
)


def make_lr_schedule(name: str, lr: float, total_steps: int, warmup_steps: int = 0) -> Any:
    """The learning rate ``lr`` under the schedule ``name`` over ``total_steps``.

    ``constant``; ``cosine`` (to 0 at the end); ``warmup-cosine`` (linear
    warm-up over the first 5% of the steps, then cosine: AlgoPerf's baselines);
    ``exponential`` (to lr/100 at the end); ``step`` (x0.1 after each third).
    ``warmup_steps > 0`` puts a linear warm-up in front. Returns ``lr`` itself for a
    constant schedule without warm-up.
    """
    check_nonnegative("schedule", "lr", lr)
    check_positive_int("schedule", "total_steps", total_steps)
    schedule = SCHEDULES.get(name)(lr, total_steps)
    if warmup_steps:
        return warmup(schedule, warmup_steps)
    return lr if name == "constant" else schedule
