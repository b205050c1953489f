"""``same_randomness(model)``: evaluate a model again as its last training forward pass did.

An optimizer that evaluates the loss more than once per step (SophiaH's
Hessian-vector products by finite differences, :mod:`optimlab.optim.closure`)
needs the *same* function each time: the same dropout masks, and BatchNorm's
running statistics not moved by the extra passes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from optimlab.nn.layers.dropout import Dropout
from optimlab.nn.module import Module


def modules(model: Module) -> Iterator[Module]:
    """``model`` and every module inside it, depth first."""
    yield model
    for _, child in model.children():
        yield from modules(child)


@contextlib.contextmanager
def same_randomness(model: Module) -> Iterator[None]:
    """Inside: every Dropout reuses the mask of its last forward pass (those not yet
    frozen; one that has not run yet draws as usual), and on the way out every buffer
    (BatchNorm's running mean and variance) gets back the values it had on the way in."""
    frozen = [
        m for m in modules(model) if isinstance(m, Dropout) and not m.frozen and m.mask is not None
    ]
    buffers = [(array, array.copy()) for _, array in model.named_buffers()]
    for m in frozen:
        m.freeze_mask()
    try:
        yield
    finally:
        for m in frozen:
            m.unfreeze_mask()
        for array, saved in buffers:
            np.copyto(array, saved)
