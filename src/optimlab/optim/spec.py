"""What the registry knows of an optimizer: its recipe, hyperparameters and checks."""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optimlab.optim.base import Transform

Check = Callable[[str, str, Any], None]


def _number(owner: str, name: str, value: Any) -> float:
    if callable(value):  # a schedule: check where it starts
        value = value(0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{owner}: {name} must be a number; received {name}={value!r}")
    if math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a number; received {name}=nan")
    return float(value)


def _finite(owner: str, name: str, value: Any, v: float) -> None:
    if math.isinf(v):
        raise ValueError(f"{owner}: {name} must be finite; received {name}={value!r}")


def nonnegative(owner: str, name: str, value: Any) -> None:
    """``value >= 0`` and finite (learning rates, weight decay...)."""
    v = _number(owner, name, value)
    _finite(owner, name, value, v)
    if not 0.0 <= v < math.inf:
        raise ValueError(f"{owner}: {name} must be >= 0; received {name}={value!r}")


def positive(owner: str, name: str, value: Any) -> None:
    """``value > 0`` and finite (eps...)."""
    v = _number(owner, name, value)
    _finite(owner, name, value, v)
    if not 0.0 < v < math.inf:
        raise ValueError(f"{owner}: {name} must be > 0; received {name}={value!r}")


def unit(owner: str, name: str, value: Any) -> None:
    """``0 <= value < 1`` (momentum coefficients, betas)."""
    v = _number(owner, name, value)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1); received {name}={value!r}")


def open_unit(owner: str, name: str, value: Any) -> None:
    """``0 < value < 1``."""
    v = _number(owner, name, value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{owner}: {name} must be in (0, 1); received {name}={value!r}")


def closed_unit(owner: str, name: str, value: Any) -> None:
    """``0 <= value <= 1`` (quasi-hyperbolic nu, dampening...)."""
    v = _number(owner, name, value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1]; received {name}={value!r}")


def boolean(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be true or false; received {name}={value!r}")


def positive_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1; received {name}={value!r}")


def nonnegative_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}: {name} must be an integer >= 0; received {name}={value!r}")


def each(*checks: Check, names: tuple[str, ...]) -> Check:
    """A tuple hyperparameter (``betas``) checked element by element, named ``beta1``...."""

    def check(owner: str, name: str, value: Any) -> None:
        if not isinstance(value, tuple | list) or len(value) != len(checks):
            raise ValueError(
                f"{owner}: {name} must be a tuple of {len(checks)} numbers; "
                f"received {name}={value!r}"
            )
        for c, n, v in zip(checks, names, value, strict=True):
            c(owner, n, v)

    return check


def one_of(*choices: Any) -> Check:
    def check(owner: str, name: str, value: Any) -> None:
        if value not in choices:
            raise ValueError(
                f"{owner}: {name} must be one of {', '.join(map(repr, choices))}; "
                f"received {name}={value!r}"
            )

    return check


def values_at(hyperparameters: Mapping[str, Any], count: int) -> dict[str, Any]:
    """Every schedule (a callable) replaced by its value at ``count``, in tuples too."""

    def value(v: Any) -> Any:
        if callable(v):
            return float(v(count))
        if isinstance(v, tuple | list):
            return type(v)(value(x) for x in v)
        return v

    return {k: value(v) for k, v in hyperparameters.items()}


def check_hyperparameter_names(spec: OptimizerSpec, hyperparameters: Mapping[str, Any]) -> None:
    """``ValueError`` for a name ``spec`` does not take, suggesting the close ones."""
    known = list(spec.defaults)
    for key in hyperparameters:
        if key not in spec.defaults:
            close = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"{spec.name}: unknown hyperparameter {key!r}{hint} (takes: {', '.join(known)})"
            )


BETAS2 = each(unit, unit, names=("beta1", "beta2"))
BETAS3 = each(unit, unit, unit, names=("beta1", "beta2", "beta3"))
NUS2 = each(closed_unit, closed_unit, names=("nu1", "nu2"))


@dataclass(frozen=True)
class OptimizerSpec:
    """One registered optimizer.

    Attributes
    ----------
    name : str
        The registry name (``"adam"``, ``"demon-qhadamw"``).
    recipe : callable
        ``recipe(**hyperparameters) -> Transform`` (``lr`` included). Its
        docstring carries the update equations (``optimlab optimizers NAME``).
    defaults : dict
        Every hyperparameter the optimizer takes, with its default (the reference's).
    checks : dict
        Range checks per hyperparameter, ``check(owner, name, value)``.
    paper : str
        Where the method comes from (title, authors, arXiv id).
    reference : str
        The implementation it is tested against step by step.
    momentum : str or None
        The hyperparameter Demon decays: ``"momentum"``, ``"betas"`` (its first
        entry), or None when the optimizer has no momentum coefficient.
    cross_checks : callable, optional
        ``cross_checks(owner, hyperparameters)`` for constraints between
        hyperparameters (``nesterov`` needs ``momentum > 0``).
    derive : callable, optional
        ``derive(values, count) -> numbers``: the schedules a composition adds,
        evaluated by the facade at the group's step ``count`` after the
        group's own (Demon: ``betas[0]`` replaced by beta_t); the
        recipe is called with what it returns. ``None``: the values as they are.
    search : mapping
        The default search space of a tuning protocol (:mod:`optimlab.optim.search`):
        hyperparameter name -> dimension; ``lr`` among them.
    step_counts : {"parameter", "group"}
        Whose age drives the bias corrections and other step-dependent terms.
        ``"parameter"`` (``torch.optim``, qhoptim, and optimizers without such
        terms): each parameter's own number of steps, so a parameter that
        skips steps or starts late is debiased for the steps it took.
        ``"group"``: the group's count of steps, as the reference keeps it
        (pytorch_optimizer's ``group["step"]``).
    """

    name: str
    recipe: Callable[..., Transform] | None
    defaults: Mapping[str, Any]
    checks: Mapping[str, Check] = field(default_factory=dict)
    paper: str = ""
    reference: str = ""
    momentum: str | None = None
    cross_checks: Callable[[str, Mapping[str, Any]], None] | None = None
    derive: Callable[[dict[str, Any], int], dict[str, Any]] | None = None
    doc: str = ""
    wd_default: float = 1e-2
    demon_forms: bool = False
    step_counts: str = "parameter"
    search: Mapping[str, Any] = field(default_factory=dict)

    def check(
        self, hyperparameters: Mapping[str, Any], *, horizon: int | None = None
    ) -> dict[str, Any]:
        """The one check of a run's hyperparameters; returns them complete.

        Names (an unknown one suggests the close ones), then ranges and
        cross-constraints of every value (a schedule is checked where it
        starts), with the defaults filled in and ``total_steps`` (Demon) taken
        from ``horizon``, the run's number of steps, when not given. Without a
        horizon an unset ``total_steps`` is left to :func:`create` to fill.
        ``ValueError`` naming the optimizer, the hyperparameter and the value.
        """
        check_hyperparameter_names(self, hyperparameters)
        full = {**self.defaults, **hyperparameters}
        if "total_steps" in full and full["total_steps"] is None and horizon is not None:
            full["total_steps"] = horizon
        values = values_at(full, 0)
        if values.get("total_steps", 0) is None:
            values.pop("total_steps")  # filled with the run's length at create
        self.validate(values)
        return full

    def validate(self, hyperparameters: Mapping[str, Any]) -> None:
        """Range-check every hyperparameter (``ValueError`` naming the value)."""
        for key, value in hyperparameters.items():
            check = self.checks.get(key)
            if check is not None:
                check(self.name, key, value)
        if self.cross_checks is not None:
            self.cross_checks(self.name, hyperparameters)

    def numbers(self, values: dict[str, Any], count: int) -> dict[str, Any]:
        """What the recipe is called with at step ``count``: ``values`` (every
        schedule of the group already evaluated) with the composition's own
        schedules evaluated too (:attr:`derive`)."""
        return values if self.derive is None else self.derive(values, count)

    @property
    def equations(self) -> str:
        """The docstring of the recipe: notation, update equations, paper."""
        text = self.doc or (self.recipe.__doc__ or "" if self.recipe else "")
        return inspect.cleandoc(text)
