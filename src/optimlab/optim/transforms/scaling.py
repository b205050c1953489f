"""The last link of every chain: multiply by the (scheduled) learning rate."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, ScalarOrSchedule, State, value_at, zeros_like_each


class ScaleByLearningRate:
    r"""``u <- -lr_t * u``: turns a direction into the step added to the parameters.

    ``lr`` may be a schedule of the step count (0 at the first step).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, lr: ScalarOrSchedule) -> None:
        self.lr = lr

    def init(self, params: Arrays) -> State:
        return {"count": 0, "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        lr = value_at(self.lr, state["count"])
        state["count"] += 1
        out = state["out"]
        for u, o in zip(updates, out, strict=True):
            np.multiply(u, -lr, out=o)
        return out

    def __repr__(self) -> str:
        return f"scale_by_learning_rate({self.lr!r})"
