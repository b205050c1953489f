"""Optimizers: a PyTorch-like facade (``create``, ``step``, ``zero_grad``, state dicts)."""

from optimlab.optim.optimizer import Optimizer
from optimlab.optim.registry import OPTIMIZERS, create, hyperparameters_of
from optimlab.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "SGD", "Optimizer", "create", "hyperparameters_of"]
