r"""Closures: more evaluations of the loss than the one gradient of a step.

``optimizer.step(closure)`` takes, as in PyTorch, a function that re-evaluates
the model on the current mini-batch: it zeroes the gradients, runs the forward
and backward passes at the current parameters and returns the loss. The facade
calls it once first (the gradients of the step, as ``torch.optim`` does), then
makes it available to the transforms during the update through
:func:`current`, so that an optimizer which needs more than one gradient per
step (SophiaH's Hessian-vector products) can ask for them; everything else
ignores it.

**Hessian-vector products by finite differences of gradients.** optimlab's
layers have a hand-written backward, no second one, so :meth:`Evaluator.hvp`
computes :math:`Hz` from two more gradients, through the model's own backward
(central differences):

.. math::

    H z \approx \frac{\nabla f(\theta + \delta z) - \nabla f(\theta - \delta z)}{2\delta}

with an error of :math:`O(\delta^2)` (the third derivatives of :math:`f`; exact for
a quadratic up to rounding) plus a rounding error of about
:math:`\epsilon_{\text{mach}} \|\nabla f\| / \delta`. ``delta=None`` takes
:math:`\delta = \epsilon_{\text{mach}}^{1/3}` of the parameters' dtype (6.1e-6 in
float64, 4.9e-3 in float32), the step that balances the two for a function of
scale 1. :math:`\theta` is the point of the step's gradient (the parameters when the
step began, before any transform moved them). The parameters are restored bit for
bit afterwards (from a copy, not by stepping back) and so are the gradients.

The closure must evaluate the *same* function each time: the same mini-batch and,
for a model with dropout, the same masks (``optimlab.train.fit`` freezes them, and
restores BatchNorm's running statistics, for every call after the first; see
:func:`optimlab.nn.same_randomness`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from optimlab.nn.module import Parameter

Closure = Callable[[], float]

_CURRENT: contextvars.ContextVar[Evaluator | None] = contextvars.ContextVar(
    "optimlab_closure", default=None
)


class Evaluator:
    """The closure of the step in progress, over the optimizer's parameters."""

    def __init__(self, closure: Closure, params: Sequence[Parameter]) -> None:
        self.closure = closure
        self.params = list(params)
        self._by_array = {id(p.data): p for p in self.params}
        self.evaluations = 0  # closure calls made through this evaluator
        self._origin: dict[int, np.ndarray] = {}

    def _parameter(self, array: np.ndarray) -> Parameter:
        try:
            return self._by_array[id(array)]
        except KeyError:
            raise ValueError(
                "closure: a transform asked for the gradient at an array that is not one of the "
                "optimizer's parameters"
            ) from None

    def evaluate(self) -> float:
        """Call the closure once; its loss as a float."""
        self.evaluations += 1
        return float(self.closure())

    def first(self) -> float:
        """The step's own evaluation: the loss, and the point :meth:`hvp` differentiates at
        (the parameters *now*, before any transform moves them: a decoupled weight decay
        earlier in the chain does not move the point the Hessian is taken at)."""
        loss = self.evaluate()
        self._origin = {id(p): p.data.copy() for p in self.params}
        return loss

    def hvp(
        self,
        arrays: Sequence[np.ndarray],
        vectors: Sequence[np.ndarray],
        delta: float | None = None,
    ) -> list[np.ndarray]:
        r"""Hessian-vector products :math:`H z` for the parameters whose data are ``arrays``
        (the ``params`` a transform receives) and ``vectors`` :math:`z` (one per array), by
        central differences of two more gradients (two closure calls).

        The other parameters stay where they are; :math:`H` is the Hessian of the loss
        with respect to the ``arrays`` only (the block of the full Hessian).
        """
        params = [self._parameter(a) for a in arrays]
        if len(vectors) != len(params):
            raise ValueError(f"closure: hvp needs {len(params)} vectors; received {len(vectors)}")
        if not params:
            return []
        if delta is None:
            delta = float(np.finfo(params[0].data.dtype).eps) ** (1.0 / 3.0)
        if not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"closure: the finite-difference step must be > 0; received {delta!r}")
        starts = [self._origin[id(p)] for p in params]
        with self._restoring():
            plus = self._gradients_at(params, starts, vectors, delta)
            minus = self._gradients_at(params, starts, vectors, -delta)
        return [(a - b) / (2.0 * delta) for a, b in zip(plus, minus, strict=True)]

    def _gradients_at(
        self, params: list[Parameter], starts: list[np.ndarray],
        vectors: Sequence[np.ndarray], delta: float,
    ) -> list[np.ndarray]:  # fmt: skip
        """The gradients of ``params`` at ``start + delta z`` (one closure call)."""
        for p, start, z in zip(params, starts, vectors, strict=True):
            np.multiply(z, delta, out=p.data, casting="unsafe")
            p.data += start
        self.evaluate()
        grads = []
        for p in params:
            if p.grad is None:
                raise ValueError(
                    f"closure: parameter {p.name!r} has no gradient after the closure; the "
                    "closure must run the backward pass"
                )
            grads.append(np.array(p.grad, dtype=np.float64))
        return grads

    @contextlib.contextmanager
    def _restoring(self) -> Iterator[None]:
        """Put every parameter and gradient back as they are now, whatever the closure does."""
        data = [p.data.copy() for p in self.params]
        grads = [None if p.grad is None else p.grad.copy() for p in self.params]
        try:
            yield
        finally:
            for p, d, g in zip(self.params, data, grads, strict=True):
                np.copyto(p.data, d)
                p.grad = g


def current() -> Evaluator | None:
    """The closure of the step in progress (``None`` when ``step()`` got none)."""
    return _CURRENT.get()


@contextlib.contextmanager
def active(evaluator: Evaluator | None) -> Iterator[None]:
    """Make ``evaluator`` the :func:`current` one for the duration of a step."""
    token = _CURRENT.set(evaluator)
    try:
        yield
    finally:
        _CURRENT.reset(token)
