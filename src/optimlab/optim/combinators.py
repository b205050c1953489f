"""Transforms around transforms: Lookahead around a chain (``chain`` itself is in base.py).

As optax's ``lookahead``: a combinator is an ordinary transform (``init`` and
``update``) that holds other transforms and their states, so the optimizer,
its state dict and ``eval()`` / ``train()`` treat it like any other link.
"""

from __future__ import annotations

import numpy as np

from optimlab.optim._blocks import is_elementwise
from optimlab.optim.base import Arrays, PerParam, State, Transform, call_hook, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp_


class Lookahead:
    r"""Lookahead (Zhang, Lucas, Hinton and Ba, "Lookahead Optimizer: k steps forward,
    1 step back", arXiv:1907.08610) around an inner ("fast") transform.

    The inner transform takes ``k`` steps; then the slow weights :math:`\phi`
    move a fraction :math:`\alpha` towards the fast ones :math:`\theta` and the
    fast weights restart there:

    .. math::

        \phi \leftarrow \phi + \alpha (\theta - \phi), \qquad \theta \leftarrow \phi

    The slow weights start as the parameters at ``init`` (the optimizer's
    construction), as in pytorch_optimizer's ``Lookahead`` (its reference
    here). The count of steps is the parameter group's (steps in which some
    parameter of the group has a gradient); only parameters that have a
    gradient at the synchronising step are synchronised. ``alpha`` is this
    step's (a schedule is evaluated by the optimizer, like every
    hyperparameter).

    Since the optimizer adds the returned updates to the parameters, the
    synchronisation is the update :math:`\phi_{new} - \theta_{t-1}`, with
    :math:`\phi_{new} = \operatorname{lerp}(\theta, \phi, 1 - \alpha)` computed
    with ``torch.lerp``'s formula, as the reference does, from :math:`\theta =
    \theta_{t-1} + u_t` rounded as the optimizer would round it; the parameter
    then equals :math:`\phi_{new}` up to one rounding. Not offered:
    pytorch_optimizer's ``pullback_momentum`` (its default, ``"none"``, is what
    this is). Note: pytorch_optimizer counts every ``step()`` call, also those
    in which a group has no gradient at all.

    Shapes: ``params`` and ``updates`` are lists of arrays of any shapes; the
    state holds the inner state (``"inner"``), the slow weights (``"slow"``,
    one array per parameter) and the group's count.
    """

    def __init__(self, inner: Transform, k: int = 5, alpha: float = 0.5) -> None:
        self.inner, self.k, self.alpha = inner, int(k), float(alpha)

    @property
    def elementwise(self) -> bool:
        """Element-wise when the inner transform is (the synchronisation is)."""
        return is_elementwise(self.inner)

    def init(self, params: Arrays) -> State:
        return {
            "inner": self.inner.init(params),
            "count": 0,
            "slow": PerParam(np.array(p, copy=True) for p in params),
            "out": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        updates = self.inner.update(updates, state["inner"], params)
        state["count"] += 1
        if state["count"] < self.k:
            return updates
        state["count"] = 0
        for u, p, slow, out in zip(updates, params, state["slow"], state["out"], strict=True):
            np.add(p, u, out=out)  # theta: the fast weights after the inner step
            lerp_(out, slow, 1.0 - self.alpha)  # phi + alpha (theta - phi), as torch.lerp
            np.copyto(slow, out)
            out -= p  # the update that moves the parameter to phi
        return state["out"]

    def to_eval(self, state: State, params: Arrays) -> None:
        call_hook(self.inner, "to_eval", state["inner"], params)

    def to_train(self, state: State, params: Arrays) -> None:
        call_hook(self.inner, "to_train", state["inner"], params)

    def __repr__(self) -> str:
        return f"lookahead({self.inner!r}, k={self.k}, alpha={self.alpha})"


def lookahead(inner: Transform, k: int = 5, alpha: float = 0.5) -> Lookahead:
    """Lookahead (``k`` fast steps, then the slow weights move by ``alpha``) around ``inner``."""
    return Lookahead(inner, k, alpha)


__all__ = ["Lookahead", "lookahead"]
