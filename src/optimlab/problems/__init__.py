"""Classic 2-D test functions: where optimizers can be watched at work.

>>> from optimlab import problems
>>> f = problems.get_function("rosenbrock")
>>> f.value([1.0, 1.0]), f.gradient([0.0, 0.0]).tolist()
(0.0, [-2.0, 0.0])
>>> noisy = problems.get_function("quadratic", condition=100, noise=0.5, seed=0)

Each function has its analytic gradient, its known minima
(:attr:`Function2D.minima`, :attr:`Function2D.minimum_value`), a plotting
window and a default start. ``noise=`` adds Gaussian noise to the gradient
(:class:`NoisyFunction`), to show stochastic behaviour.
:mod:`optimlab.trajectories` runs optimizers on them and draws the paths.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from optimlab._registry import Registry
from optimlab.problems.base import Function2D, NoisyFunction, as_points
from optimlab.problems.functions import (
    Beale,
    Himmelblau,
    Quadratic,
    Rastrigin,
    Rosenbrock,
    Saddle,
    StyblinskiTang,
)

#: name -> the class (called with the function's own parameters).
FUNCTIONS: Registry[Callable[..., Function2D]] = Registry("test function")
FUNCTIONS.register("rosenbrock", Rosenbrock)
FUNCTIONS.register("beale", Beale)
FUNCTIONS.register("himmelblau", Himmelblau)
FUNCTIONS.register("rastrigin", Rastrigin)
FUNCTIONS.register("styblinski-tang", StyblinskiTang, aliases=("styblinski_tang", "styblinskitang"))
FUNCTIONS.register("quadratic", Quadratic, aliases=("ill-conditioned-quadratic",))
FUNCTIONS.register("saddle", Saddle)


def get_function(
    name: str | Function2D, *, noise: float = 0.0, seed: int = 0, **params: Any
) -> Function2D:
    """The test function ``name``, built with ``params``, optionally with a noisy gradient.

    Parameters
    ----------
    name : str or Function2D
        A registered name (``optimlab.problems.FUNCTIONS.names()``) or a function.
    noise : float
        Standard deviation of the Gaussian noise added to each gradient
        coordinate; 0 (the default) for the exact gradient.
    seed : int
        Seed of the noise (``numpy.random.default_rng(seed)``).
    **params
        The function's own parameters, e.g. ``condition=100, angle=30`` for
        ``quadratic`` or ``a=1, b=100`` for ``rosenbrock``.

    Raises
    ------
    ValueError
        An unknown name (with close matches), a parameter the function does not
        take (listing those it does), or a bad value.
    """
    if isinstance(name, Function2D):
        if params:
            raise ValueError(f"{name.name}: parameters go with a name, not a built function")
        function = name
    else:
        factory = FUNCTIONS.get(name)
        accepted = _parameters(factory)
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            takes = ", ".join(accepted) if accepted else "no parameters"
            raise ValueError(
                f"{FUNCTIONS.canonical(name)}: unknown parameter {', '.join(unknown)}; "
                f"it takes {takes}"
            )
        function = factory(**params)
    if noise:
        return NoisyFunction(function, noise, seed)
    if isinstance(noise, bool) or not isinstance(noise, int | float) or noise < 0:
        raise ValueError(f"noise: scale must be a finite number >= 0; received {noise!r}")
    return function


def _parameters(factory: Callable[..., Function2D]) -> list[str]:
    signature = inspect.signature(factory)
    return [n for n in signature.parameters if n != "self"]


def parameters_of(name: str) -> list[str]:
    """The parameter names the function ``name`` takes (``[]`` for most)."""
    return _parameters(FUNCTIONS.get(name))


__all__ = [
    "FUNCTIONS",
    "Beale",
    "Function2D",
    "Himmelblau",
    "NoisyFunction",
    "Quadratic",
    "Rastrigin",
    "Rosenbrock",
    "Saddle",
    "StyblinskiTang",
    "as_points",
    "get_function",
    "parameters_of",
]
