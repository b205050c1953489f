"""The weights of a model as one flat vector, and snapshots of them along a run.

A trajectory of the weights (for the loss landscape of Li et al., NeurIPS 2018) is a
sequence of flat vectors: every parameter of ``model.parameters()``, in that order,
raveled and concatenated. :class:`WeightTrail` keeps one every ``every`` steps.
"""

from __future__ import annotations

import numpy as np

from optimlab._validation import check_positive_int
from optimlab.nn.module import Module


def flat_parameters(model: Module, dtype: np.dtype | type | None = None) -> np.ndarray:
    """Every parameter of ``model``, raveled and concatenated, shape ``(P,)`` (a copy)."""
    params = model.parameters()
    if not params:
        return np.zeros(0, dtype=dtype or np.float32)
    return np.concatenate([p.data.ravel() for p in params]).astype(
        dtype or params[0].data.dtype, copy=False
    )


def load_flat_parameters(model: Module, vector: np.ndarray) -> None:
    """Copy ``vector`` (shape ``(P,)``, :func:`flat_parameters`' order) into the parameters."""
    vector = np.asarray(vector)
    total = model.num_parameters()
    if vector.shape != (total,):
        raise ValueError(
            f"load_flat_parameters: the vector must have shape ({total},), one entry per "
            f"parameter of the {type(model).__name__}; received shape {vector.shape}"
        )
    at = 0
    for p in model.parameters():
        p.data[...] = vector[at : at + p.size].reshape(p.shape)  # (P_i,) -> the parameter's
        at += p.size


class WeightTrail:
    """A :class:`~optimlab.train.loop.StepObserver` keeping the weights along a run.

    ``snapshots`` holds ``(step, vector)`` pairs: ``step`` is the number of optimizer
    steps taken when the weights were copied, ``vector`` the :func:`flat_parameters`
    copy in float32. Kept: the initial weights (step 0, when the trail sees the run's
    first step), the weights after every step whose count is a multiple of ``every``,
    and the weights at the end of every epoch. :meth:`take` hands over the snapshots
    kept since it was last called.
    """

    def __init__(self, model: Module, every: int) -> None:
        check_positive_int("WeightTrail", "every", every)
        self.model, self.every = model, every
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.step: int | None = None  # steps taken so far, once a step was seen
        self._last: int | None = None  # the step count of the latest snapshot

    def wants(self, step: int) -> bool:
        return True  # every step: the count, for the end-of-epoch snapshot

    def before_step(self, step: int) -> None:
        if step == 0:
            self._keep(0)

    def after_step(self, step: int) -> None:
        self.step = step + 1
        if self.step % self.every == 0:
            self._keep(self.step)

    def end_epoch(self, epoch: int) -> None:
        if self.step is not None and self._last != self.step:
            self._keep(self.step)

    def take(self) -> list[tuple[int, np.ndarray]]:
        taken, self.snapshots = self.snapshots, []
        return taken

    def _keep(self, step: int) -> None:
        self.snapshots.append((step, flat_parameters(self.model, np.float32)))
        self._last = step
