"""Search spaces: where a tuning protocol may look for an optimizer's hyperparameters.

A search space maps a hyperparameter name (``lr`` included; a sweep adds
``schedule`` and ``warmup``) to a :class:`Dimension`. A dimension turns one
coordinate ``u`` in ``[0, 1)`` of a quasi-random point into a value, so that
a protocol can draw N configurations from a Sobol or Halton sequence in the
unit cube and map them through the space:

=====================  ================================================  ======================
form (TOML / dict)     value of ``u``                                    for
=====================  ================================================  ======================
``{log = [a, b]}``     ``exp(log a + u (log b - log a))``                rates, decays, eps
``{uniform = [a, b]}`` ``a + u (b - a)``                                 nu, momentum
``{log1m = [a, b]}``   ``1 - exp(log(1-b) + u (log(1-a) - log(1-b)))``   betas near 1
``{int = [a, b]}``     ``a + floor(u (b - a + 1))``                      warm-up steps, k
``{choice = [...]}``   ``choices[floor(u n)]``                           booleans, schedules
``[d1, d2]``           each entry a dimension or a fixed number          ``betas``, ``nus``
a plain value          the value itself (fixed, draws no coordinate)
=====================  ================================================  ======================

``log1m`` is log-uniform in ``1 - x`` (so 0.9, 0.99 and 0.999 are equally
spaced), as AlgoPerf searches ``1 - beta1``. Every registered optimizer has a
default space (:attr:`OptimizerSpec.search`, next to its checks); an optimizer
registered without one searches ``lr`` log-uniformly over two decades either
side of its default (:func:`default_space`). ``<name>w`` adds ``weight_decay``
(:data:`WEIGHT_DECAY`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dimension:
    """One searched value: ``kind`` (log, uniform, log1m, int, choice) and its bounds or
    choices. :meth:`value` maps a unit coordinate to it."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def value(self, u: float) -> Any:
        """The value at the unit coordinate ``u`` (``0 <= u < 1``)."""
        u = min(max(float(u), 0.0), math.nextafter(1.0, 0.0))
        if self.kind == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)
        if self.kind == "log1m":
            top, bottom = math.log(1.0 - self.high), math.log(1.0 - self.low)
            return 1.0 - math.exp(top + u * (bottom - top))
        if self.kind == "int":
            return int(min(self.high, self.low + math.floor(u * (self.high - self.low + 1))))
        return self.choices[min(len(self.choices) - 1, math.floor(u * len(self.choices)))]

    def form(self) -> dict[str, Any]:
        """The dict (TOML inline table) this dimension is written as."""
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        if self.kind == "int":
            return {"int": [int(self.low), int(self.high)]}
        return {self.kind: [self.low, self.high]}

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(_word, self.choices))
        words = {"log": "log-uniform", "uniform": "uniform", "log1m": "1 - x log-uniform",
                 "int": "integer"}  # fmt: skip
        return f"{words[self.kind]} in [{self.low:g}, {self.high:g}]"


def log(low: float, high: float) -> Dimension:
    return Dimension("log", float(low), float(high))


def uniform(low: float, high: float) -> Dimension:
    return Dimension("uniform", float(low), float(high))


def log1m(low: float, high: float) -> Dimension:
    return Dimension("log1m", float(low), float(high))


def integer(low: int, high: int) -> Dimension:
    return Dimension("int", int(low), int(high))


def choice(*choices: Any) -> Dimension:
    return Dimension("choice", choices=tuple(choices))


#: What ``<name>w`` adds to its base's space (decoupled decay, multiplied by lr).
WEIGHT_DECAY = log(1e-6, 1e-1)

#: A search-space entry: a dimension, a tuple of dimensions and fixed numbers, or a value.
Entry = Any
Space = Mapping[str, Entry]

KINDS = ("log", "uniform", "log1m", "int", "choice")


def parse_entry(where: str, name: str, value: Any) -> Entry:
    """A TOML (dict) form as an entry: ``ValueError`` naming ``where``, ``name`` and the value.

    ``where`` says whose space it is (``"sweep.toml: [optimizer.adam.search]"``).
    """
    if isinstance(value, Dimension):
        return value
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in KINDS:
            raise ValueError(
                f"{where}: {name} = {value!r} is not a dimension; expected one of "
                "{log = [a, b]}, {uniform = [a, b]}, {log1m = [a, b]}, {int = [a, b]}, "
                "{choice = [...]}, a list of those (a tuple such as betas) or a fixed value"
            )
        kind, bounds = next(iter(value.items()))
        return _dimension(where, name, kind, bounds)
    if isinstance(value, list | tuple):
        return tuple(parse_entry(where, f"{name}[{i}]", v) for i, v in enumerate(value))
    return value


def _dimension(where: str, name: str, kind: str, bounds: Any) -> Dimension:
    if kind == "choice":
        if not isinstance(bounds, list | tuple) or not bounds:
            raise ValueError(f"{where}: {name} = {{choice = ...}} needs a non-empty list; "
                             f"received {bounds!r}")  # fmt: skip
        return choice(*bounds)
    numbers = (
        isinstance(bounds, list | tuple) and len(bounds) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
    )  # fmt: skip
    if not numbers:
        raise ValueError(
            f"{where}: {name} = {{{kind} = ...}} needs two numbers [low, high]; received {bounds!r}"
        )
    low, high = bounds
    ok = {
        "log": 0 < low <= high < math.inf,
        "uniform": -math.inf < low <= high < math.inf,
        "log1m": 0 <= low <= high < 1,
        "int": isinstance(low, int) and isinstance(high, int) and low <= high,
    }[kind]
    if not ok:
        need = {
            "log": "0 < low <= high, finite", "uniform": "low <= high, finite",
            "log1m": "0 <= low <= high < 1", "int": "integers, low <= high",
        }[kind]  # fmt: skip
        raise ValueError(f"{where}: {name} = {{{kind} = [{low!r}, {high!r}]}} needs {need}")
    return {"log": log, "uniform": uniform, "log1m": log1m, "int": integer}[kind](low, high)


def form(entry: Entry) -> Any:
    """The dict/list form of an entry (what :func:`parse_entry` reads back)."""
    if isinstance(entry, Dimension):
        return entry.form()
    if isinstance(entry, tuple):
        return [form(e) for e in entry]
    return entry


def size(entry: Entry) -> int:
    """How many unit coordinates an entry draws."""
    if isinstance(entry, Dimension):
        return 1
    if isinstance(entry, tuple):
        return sum(size(e) for e in entry)
    return 0


def dimensions(space: Space) -> int:
    """How many coordinates a point of ``space`` has."""
    return sum(size(e) for e in space.values())


def sample(space: Space, point: Sequence[float]) -> dict[str, Any]:
    """The configuration at a point of the unit cube (coordinates in the space's order)."""
    if len(point) != dimensions(space):
        raise ValueError(
            f"a point of this space has {dimensions(space)} coordinates; received {len(point)}"
        )
    coordinates = iter(point)

    def value(entry: Entry) -> Any:
        if isinstance(entry, Dimension):
            return entry.value(next(coordinates))
        if isinstance(entry, tuple):
            return tuple(value(e) for e in entry)
        return entry

    return {name: value(entry) for name, entry in space.items()}


def describe(entry: Entry) -> str:
    """A dimension in words: ``log-uniform in [1e-05, 0.1]``; a tuple entry by entry."""
    if isinstance(entry, Dimension):
        return entry.describe()
    if isinstance(entry, tuple):
        return "(" + ", ".join(describe(e) for e in entry) + ")"
    return f"fixed at {_word(entry)}"


def default_space(defaults: Mapping[str, Any]) -> dict[str, Entry]:
    """The space of an optimizer registered without one: ``lr`` log-uniform over two
    decades either side of its default (everything else at its default)."""
    lr = float(defaults.get("lr") or 1e-3)
    return {"lr": log(lr / 100.0, lr * 100.0)} if lr > 0 else {}


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else repr(value)


__all__ = [
    "WEIGHT_DECAY",
    "Dimension",
    "Entry",
    "Space",
    "choice",
    "default_space",
    "describe",
    "dimensions",
    "form",
    "integer",
    "log",
    "log1m",
    "parse_entry",
    "sample",
    "size",
    "uniform",
]  # fmt: skip
