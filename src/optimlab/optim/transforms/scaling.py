"""The last link of every chain: multiply by the learning rate."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each


class ScaleByLearningRate:
    r"""``u <- -lr * u``: turns a direction into the step added to the parameters.

    ``lr`` is this step's learning rate (a schedule is evaluated by the facade).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def init(self, params: Arrays) -> State:
        return {"out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        out = state["out"]
        for u, o in zip(updates, out, strict=True):
            np.multiply(u, -self.lr, out=o)
        return out

    def __repr__(self) -> str:
        return f"scale_by_learning_rate({self.lr!r})"
