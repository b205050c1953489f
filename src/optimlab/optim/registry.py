"""The optimizer registry: one name -> one optimizer class."""

from __future__ import annotations

from typing import Any

from optimlab._registry import Registry
from optimlab.optim.optimizer import Optimizer, ParamsLike
from optimlab.optim.sgd import SGD

OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")
OPTIMIZERS.register("sgd", SGD)


def create(name: str, params: ParamsLike, **hyperparameters: Any) -> Optimizer:
    """Build the optimizer registered as ``name`` over ``params``.

    Raises ``ValueError`` for an unknown name (listing close matches), a
    hyperparameter the optimizer does not take, or a value out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from optimlab import nn, optim
    >>> model = nn.Dense(3, 2, rng=np.random.default_rng(0))
    >>> opt = optim.create("sgd", model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.hyperparameters["momentum"]
    0.9
    """
    return OPTIMIZERS.get(name)(params, **hyperparameters)


def hyperparameters_of(name: str) -> dict[str, Any]:
    """The hyperparameters the optimizer ``name`` takes, with their defaults."""
    return dict(OPTIMIZERS.get(name).defaults)
