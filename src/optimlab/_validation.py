"""Range checks whose errors name the owner, the constraint and the received value.

Wording, e.g.: ``sgd: lr must be >= 0; received lr=-0.1``.
"""

from __future__ import annotations

import math
from numbers import Real


def _real(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a real number; received {name}={value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a number; received {name}=nan")
    return value


def check_nonnegative(owner: str, name: str, value: object) -> float:
    """``value >= 0`` (finite)."""
    v = _real(owner, name, value)
    if not (0.0 <= v < math.inf):
        raise ValueError(f"{owner}: {name} must be >= 0; received {name}={value!r}")
    return v


def check_positive(owner: str, name: str, value: object) -> float:
    """``value > 0`` (finite)."""
    v = _real(owner, name, value)
    if not (0.0 < v < math.inf):
        raise ValueError(f"{owner}: {name} must be > 0; received {name}={value!r}")
    return v


def check_unit_interval(
    owner: str, name: str, value: object, *, closed_right: bool = False
) -> float:
    """``0 <= value < 1`` (or ``<= 1`` with ``closed_right``)."""
    v = _real(owner, name, value)
    ok = 0.0 <= v <= 1.0 if closed_right else 0.0 <= v < 1.0
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{owner}: {name} must be in {interval}; received {name}={value!r}")
    return v


def check_positive_int(owner: str, name: str, value: object) -> int:
    """An ``int`` >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1; received {name}={value!r}")
    return value


def check_choice(owner: str, name: str, value: object, choices: tuple[object, ...]) -> object:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f"{owner}: {name} must be one of {', '.join(map(repr, choices))}; "
            f"received {name}={value!r}"
        )
    return value
