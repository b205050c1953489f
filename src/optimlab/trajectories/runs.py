"""Run optimizers on a 2-D test function and keep every point they visit.

The parameter is one float64 ``Parameter`` holding ``(x, y)`` as a 1 x 2
matrix; each step sets its gradient to ``function.gradient(point)`` and calls
``step()``, the same facade training uses, so every registered name works
here (compositions and a user's own optimizers included). The matrix shape
lets matrix methods act as they do on a weight matrix: Muon's Newton-Schulz
iteration on one row normalises the momentum to a unit step of length ``lr``
(a vector would get Muon's AdamW fallback instead). Element-wise optimizers
are indifferent to the shape.

What is recorded at step ``t`` is the point the optimizer would report:
after ``optimizer.eval()`` (schedule-free's averaged ``x``, the plain
parameter for everyone else). Values and distances are exact even when the
gradient is noisy.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimlab import optim
from optimlab._validation import check_positive_int
from optimlab.experiments import plugins as plugin_files
from optimlab.experiments.plugins import Plugin
from optimlab.experiments.run import RunConfig, build_optimizer
from optimlab.nn.module import Parameter
from optimlab.problems import Function2D, get_function

#: A run stops when the point leaves this box or stops being finite.
ESCAPE_RADIUS = 1e6


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One optimizer's path on one function.

    Attributes
    ----------
    optimizer : str
    lr : float
    hyperparameters : dict
        Everything passed to ``optim.create`` besides ``lr``.
    points : numpy.ndarray, shape (steps + 1, 2)
        Row 0 is the start. After a divergence the rows are NaN.
    values : numpy.ndarray, shape (steps + 1,)
        The exact function value at each point.
    distances : numpy.ndarray, shape (steps + 1,)
        Distance to the nearest minimum (the stationary point if none).
    diverged_at : int or None
        The first step whose point was not finite or left the box of radius
        ``ESCAPE_RADIUS``; ``None`` if the run finished.
    """

    optimizer: str
    lr: float
    hyperparameters: dict[str, Any]
    points: np.ndarray
    values: np.ndarray
    distances: np.ndarray
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_value(self) -> float:
        """The value after the last step (``nan`` if the run diverged)."""
        return float(self.values[-1])

    @property
    def final_distance(self) -> float:
        """The distance after the last step (``nan`` if the run diverged)."""
        return float(self.distances[-1])

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record: optimizer, lr, final value and distance, divergence."""
        return {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "hyperparameters": _jsonable(self.hyperparameters),
            "final_value": _number(self.final_value),
            "final_distance": _number(self.final_distance),
            "final_point": [_number(v) for v in self.points[-1]],
            "diverged_at": self.diverged_at,
        }


@dataclass(frozen=True, eq=False)
class Tuning:
    """A learning-rate search: every rate tried and its final value."""

    grid: tuple[float, ...]
    final_values: dict[float, float] = field(default_factory=dict)
    best_lr: float | None = None

    @property
    def at_edge(self) -> bool:
        """Whether the best rate is the smallest or largest of a grid of two or more."""
        return (
            len(self.grid) >= 2
            and self.best_lr is not None
            and self.best_lr in (min(self.grid), max(self.grid))
        )


def default_grid(low: float = 1e-5, high: float = 10.0, per_decade: int = 3) -> tuple[float, ...]:
    """A log grid from ``low`` to ``high`` with ``per_decade`` rates per factor of 10."""
    decades = math.log10(high / low)
    count = round(decades * per_decade) + 1
    return tuple(float(f"{v:.3g}") for v in np.logspace(math.log10(low), math.log10(high), count))


def trajectory(
    function: str | Function2D,
    optimizer: str,
    lr: float | None = None,
    *,
    steps: int = 500,
    start: Sequence[float] | None = None,
    plugins: Sequence[Plugin] = (),
    **hyperparameters: Any,
) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps on ``function`` from ``start``.

    ``lr=None`` takes the optimizer's default rate. A Demon optimizer's
    ``total_steps`` defaults to ``steps``. A noisy function's noise starts over
    from its seed, so every optimizer sees the same noise. The optimizer is
    built as every command builds one (:func:`optimlab.experiments.run.build_optimizer`),
    after importing ``plugins``.

    Raises
    ------
    ValueError
        Unknown function or optimizer (with close matches), a start outside the
        window, ``steps < 1``, or a bad hyperparameter.
    """
    fn = get_function(function).restarted()
    steps = _steps(steps)
    point = fn.check_start(start)
    defaults = optim.hyperparameters_of(optimizer)
    rate = float(defaults["lr"] if lr is None else lr)
    param = Parameter(point.reshape(1, 2).copy(), name="xy")
    run = RunConfig(optimizer, rate, hyperparameters=hyperparameters, plugins=tuple(plugins))
    opt = build_optimizer(run, [param], steps)  # Demon's total_steps: the whole path
    hp = dict(hyperparameters)
    if "total_steps" in defaults and "total_steps" not in hp:
        hp["total_steps"] = steps

    def closure() -> float:  # for optimizers that evaluate the gradient again (SophiaH)
        param.grad = fn.gradient(param.data)
        return float(np.asarray(fn.value(param.data)).reshape(-1)[0])

    points = np.full((steps + 1, 2), np.nan)
    points[0] = point
    diverged_at = None
    # A run that blows up overflows on its way out; it is caught below, not warned about.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(1, steps + 1):
            param.grad = fn.gradient(param.data)  # (1, 2) -> (1, 2)
            opt.step(closure) if opt.needs_closure else opt.step()
            opt.eval()
            points[t] = param.data[0]
            opt.train()
            if not (np.all(np.isfinite(points[t])) and np.abs(points[t]).max() <= ESCAPE_RADIUS):
                points[t] = np.nan
                diverged_at = t
                break
        values = np.asarray(fn.value(points), dtype=np.float64)
        distances = np.asarray(fn.distance(points), dtype=np.float64)
    return Trajectory(optimizer, rate, hp, points, values, distances, diverged_at)


def tune(
    function: str | Function2D,
    optimizer: str,
    grid: Sequence[float] | None = None,
    *,
    steps: int = 500,
    start: Sequence[float] | None = None,
    **hyperparameters: Any,
) -> tuple[Trajectory, Tuning]:
    """The run with the lowest final value over a grid of learning rates.

    ``grid`` defaults to :func:`default_grid`. Diverged runs never win. Ties
    go to the smaller rate. If every rate diverges, the smallest rate's run is
    returned and ``best_lr`` is ``None``.
    """
    return _best_over_grid(function, optimizer, _grid(grid), steps, start, hyperparameters, ())


def _best_over_grid(
    function: str | Function2D,
    optimizer: str,
    rates: tuple[float, ...],
    steps: int,
    start: Sequence[float] | None,
    hyperparameters: Mapping[str, Any],
    plugins: Sequence[Plugin],
) -> tuple[Trajectory, Tuning]:
    finals: dict[float, float] = {}
    best: Trajectory | None = None
    first: Trajectory | None = None
    for lr in rates:
        path = trajectory(
            function, optimizer, lr, steps=steps, start=start, plugins=plugins, **hyperparameters
        )
        first = first or path
        finals[lr] = math.inf if path.diverged else path.final_value
        if not path.diverged and (best is None or path.final_value < best.final_value):
            best = path
    if best is None:
        assert first is not None
        return first, Tuning(rates, finals, None)
    return best, Tuning(rates, finals, best.lr)


class Runs(dict):
    """``{optimizer name: Trajectory}`` in the order given, and the searches of a tuned run.

    Attributes
    ----------
    function : Function2D
    tunings : dict of str to Tuning
        Every rate tried and its final value, per optimizer (empty unless tuned).
    plugins : tuple of Plugin
        The plugins imported for these runs (name and SHA-256 go into ``summary.json``).
    """

    def __init__(self, function: Function2D, tunings: dict[str, Tuning] | None = None) -> None:
        super().__init__()
        self.function = function
        self.tunings: dict[str, Tuning] = tunings if tunings is not None else {}
        self.plugins: tuple[Plugin, ...] = ()


def run(
    function: str | Function2D,
    optimizers: Sequence[str],
    *,
    steps: int = 500,
    lrs: float | Sequence[float] | Mapping[str, float] | None = None,
    start: Sequence[float] | None = None,
    hyperparameters: Mapping[str, Mapping[str, Any]] | None = None,
    tune: bool = False,
    grid: Sequence[float] | None = None,
    plugins: Sequence[Plugin] = (),
) -> Runs:
    """Every optimizer's trajectory on ``function``, by optimizer name (in order).

    Parameters
    ----------
    function : str or Function2D
        A name of :data:`optimlab.problems.FUNCTIONS` or a built (maybe noisy) function.
    optimizers : sequence of str
        Registry names, each at most once.
    steps : int
        Steps per run (>= 1).
    lrs : float, sequence or mapping, optional
        One rate for all, one per optimizer (in order), or ``{name: rate}``;
        the optimizer's default for any not given. Ignored when tuning.
    start : (x, y), optional
        Inside the function's window; its default start if omitted.
    hyperparameters : mapping, optional
        ``{name: {hyperparameter: value}}`` for individual optimizers.
    tune : bool
        Search each optimizer's rate over ``grid`` (default
        :func:`default_grid`) for the lowest final value and keep that run:
        the fair picture. ``result.tunings[name]`` holds each search.
    plugins : sequence of Plugin
        Imported first (:func:`optimlab.experiments.plugins.find`), so their
        optimizers may be named; recorded in ``result.plugins``.

    Examples
    --------
    >>> from optimlab import trajectories
    >>> runs = trajectories.run("quadratic", ["sgd", "momentum"], steps=50, lrs=0.1)
    >>> runs["sgd"].points.shape
    (51, 2)
    >>> tuned = trajectories.run("quadratic", ["sgd"], steps=50, tune=True, grid=[0.01, 0.1])
    >>> tuned["sgd"].lr, tuned.tunings["sgd"].grid
    (0.1, (0.01, 0.1))
    """
    plugin_files.load(plugins)
    names = _names(optimizers)
    if tune and lrs is not None:
        raise ValueError(
            "trajectories: tune=True searches grid= for every optimizer; drop lrs= (or pass "
            "the rates to search as grid=)"
        )
    if grid is not None and not tune:
        raise ValueError("trajectories: grid= is searched only with tune=True")
    fn = get_function(function)
    fn.check_start(start)
    steps = _steps(steps)
    for name in names:
        optim.resolve(name)  # every name checked before any run
    rates = _rates(names, lrs)
    extra = dict(hyperparameters or {})
    stray = sorted(set(extra) - set(names))
    if stray:
        raise ValueError(
            f"trajectories: hyperparameters given for {', '.join(stray)}, which is not among "
            f"the optimizers {', '.join(names)}"
        )
    rate_grid = _grid(grid) if tune else ()
    for name, hp in extra.items():
        if "lr" in hp:
            raise ValueError(
                f"trajectories: give {name}'s learning rate with lrs= (or --lrs), not among "
                "its hyperparameters"
            )
    runs = Runs(fn)
    runs.plugins = tuple(plugins)
    for name in names:
        hp = dict(extra.get(name, {}))
        if tune:
            runs[name], runs.tunings[name] = _best_over_grid(
                fn, name, rate_grid, steps, start, hp, plugins
            )
        else:
            runs[name] = trajectory(
                fn, name, rates[name], steps=steps, start=start, plugins=plugins, **hp
            )
    return runs


def _names(optimizers: Sequence[str]) -> list[str]:
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    names = list(optimizers)
    if not names:
        raise ValueError("trajectories: name at least one optimizer")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"trajectories: optimizer named twice: {', '.join(repeated)}")
    return names


def _steps(steps: Any) -> int:
    try:
        value = operator.index(steps)  # int and NumPy integers, never bool or float
    except TypeError:
        value = None
    if value is None or isinstance(steps, bool):
        raise ValueError(f"trajectories: steps must be an integer >= 1; received steps={steps!r}")
    return check_positive_int("trajectories", "steps", int(value))


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool | str) or not isinstance(value, numbers.Real | np.ndarray):
        raise ValueError(f"trajectories: {what} must be a number; received {value!r}")
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"trajectories: {what} must be one number; received {value!r}")
    return float(array)


def _rates(
    names: list[str], lrs: float | Sequence[float] | Mapping[str, float] | None
) -> dict[str, float | None]:
    if lrs is None:
        return dict.fromkeys(names)
    if isinstance(lrs, numbers.Real) or (isinstance(lrs, np.ndarray) and lrs.ndim == 0):
        return dict.fromkeys(names, _rate(lrs, "lrs"))
    if isinstance(lrs, Mapping):
        stray = sorted(set(lrs) - set(names))
        if stray:
            raise ValueError(
                f"trajectories: learning rate given for {', '.join(stray)}, which is not among "
                f"the optimizers {', '.join(names)}"
            )
        return {n: (_rate(lrs[n], f"the lr of {n}") if n in lrs else None) for n in names}
    if isinstance(lrs, str):
        raise ValueError(f"trajectories: lrs must be numbers; received {lrs!r}")
    values = [_rate(v, "lrs") for v in lrs]
    if len(values) == 1:
        return dict.fromkeys(names, values[0])
    if len(values) != len(names):
        raise ValueError(
            f"trajectories: expected one learning rate or one per optimizer ({len(names)}: "
            f"{', '.join(names)}); received {len(values)}: {', '.join(map(str, values))}"
        )
    return dict(zip(names, values, strict=True))


def _grid(grid: Sequence[float] | None) -> tuple[float, ...]:
    if isinstance(grid, str):
        raise ValueError(f"trajectories: grid must be numbers; received {grid!r}")
    rates = default_grid() if grid is None else tuple(_rate(v, "grid") for v in grid)
    if not rates:
        raise ValueError("trajectories: the learning-rate grid is empty")
    bad = [v for v in rates if not (0 < v < math.inf)]
    if bad:
        raise ValueError(f"trajectories: grid rates must be > 0; received {bad[0]!r}")
    return tuple(sorted(set(rates)))


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if callable(value):
        return repr(value)
    return value
