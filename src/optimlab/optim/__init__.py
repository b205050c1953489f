"""Optimizers: small transforms inside, a PyTorch-like facade outside.

>>> import numpy as np
>>> from optimlab import nn, optim
>>> model = nn.Dense(4, 2, rng=np.random.default_rng(0))
>>> opt = optim.create("demon-qhadamw", model.parameters(), lr=1e-3, total_steps=1000)

``optim.available()`` lists every name; ``optim.register`` adds your own.
"""

from optimlab.optim import aliases as _aliases  # noqa: F401  (registers the named optimizers)
from optimlab.optim import aliases_adam_mini as _aliases_adam_mini  # noqa: F401
from optimlab.optim import aliases_kron as _aliases_kron  # noqa: F401
from optimlab.optim import aliases_lr_free as _aliases_lr_free  # noqa: F401
from optimlab.optim import aliases_modern as _aliases_modern  # noqa: F401
from optimlab.optim import aliases_orthogonal as _aliases_orthogonal  # noqa: F401
from optimlab.optim import aliases_shampoo as _aliases_shampoo  # noqa: F401
from optimlab.optim import aliases_sophia as _aliases_sophia  # noqa: F401
from optimlab.optim import aliases_variance_reduced as _aliases_variance_reduced  # noqa: F401
from optimlab.optim import schedules
from optimlab.optim.base import Chain, PerParam, Transform, chain
from optimlab.optim.combinators import Lookahead, lookahead
from optimlab.optim.optimizer import Optimizer, optimizer_class
from optimlab.optim.registry import (
    OPTIMIZERS,
    available,
    create,
    demon_capable,
    hyperparameters_of,
    register,
    resolve,
)

SGD = optimizer_class(resolve("sgd"))
Adam = optimizer_class(resolve("adam"))
AdamW = optimizer_class(resolve("adamw"))

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Chain",
    "Lookahead",
    "Optimizer",
    "PerParam",
    "Transform",
    "available",
    "chain",
    "create",
    "demon_capable",
    "hyperparameters_of",
    "lookahead",
    "optimizer_class",
    "register",
    "resolve",
    "schedules",
]
