"""Transforms around transforms: Lookahead and the cautious mask around a chain, partition
between chains.

(``chain`` itself is in base.py.) As optax's ``lookahead`` and ``partition``: a
combinator is an ordinary transform (``init`` and ``update``) that holds other
transforms and their states, so the optimizer, its state dict and ``eval()`` /
``train()`` treat it like any other link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from optimlab.optim._blocks import is_elementwise
from optimlab.optim.base import (
    Arrays,
    PerParam,
    State,
    Transform,
    call_hook,
    merge,
    select,
    zeros_like_each,
)
from optimlab.optim.transforms._torch_ops import lerp_


class Around:
    """A transform around one ``inner`` transform whose state is ``state["inner"]``:
    ``eval()`` and ``train()`` reach the inner one (schedule-free inside)."""

    inner: Transform

    def to_eval(self, state: State, params: Arrays) -> None:
        call_hook(self.inner, "to_eval", state["inner"], params)

    def to_train(self, state: State, params: Arrays) -> None:
        call_hook(self.inner, "to_train", state["inner"], params)


class Lookahead(Around):
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

    def __repr__(self) -> str:
        return f"lookahead({self.inner!r}, k={self.k}, alpha={self.alpha})"


class Cautious(Around):
    r"""The cautious mask (Liang, Chen, Liu and Liu, "Cautious Optimizers: Improving
    Training with One Line of Code", arXiv:2411.16085) around any transform.

    With :math:`u_t` the inner transform's step for a parameter (the step added to
    it) and :math:`g_t` its gradient, the components whose step does not go
    against the gradient are zeroed, and the rest rescaled by the share kept:

    .. math::

        \phi_t = \mathbb{1}[-u_t \odot g_t > 0], \qquad
        u_t \leftarrow u_t \odot \phi_t \, rac{\dim \phi_t}{\sum_i \phi_{t,i} + 1}

    per parameter tensor (the ``+ 1`` is the paper's code's and pytorch_optimizer's
    ``apply_cautious``, which keeps the division defined). The mask uses the
    gradient the optimizer receives (before a coupled weight decay adds to it);
    decoupled weight decay, applied to the weights before the step, is not masked.
    Not element-wise (the share needs the whole tensor). Note: pytorch_optimizer's
    AdEMAMix (``cautious=True``) masks its fast average only, not the whole step;
    ``cautious-ademamix`` masks the step, as the paper defines it.
    """

    elementwise = False

    def __init__(self, inner: Transform) -> None:
        self.inner = inner

    def init(self, params: Arrays) -> State:
        return {"inner": self.inner.init(params), "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        steps = self.inner.update(updates, state["inner"], params)
        for g, u, out in zip(updates, steps, state["out"], strict=True):
            np.multiply(u, g, out=out)
            keep = out < 0  # the step goes down the gradient
            share = keep.size / (np.count_nonzero(keep) + 1)
            np.multiply(u, keep, out=out)
            out *= share
        return state["out"]

    def __repr__(self) -> str:
        return f"cautious({self.inner!r})"


def cautious(inner: Transform) -> Cautious:
    """The cautious mask around ``inner``: steps that disagree with the gradient are dropped."""
    return Cautious(inner)


def lookahead(inner: Transform, k: int = 5, alpha: float = 0.5) -> Lookahead:
    """Lookahead (``k`` fast steps, then the slow weights move by ``alpha``) around ``inner``."""
    return Lookahead(inner, k, alpha)


class Partition:
    r"""Route each parameter to one of several transforms by a label of the parameter.

    ``label(param) -> name`` (a key of ``transforms``) is computed from the
    parameter's array (its ``ndim``, shape...); each transform sees only its
    parameters, their updates and their state, as if it were alone (optax's
    ``partition``). Every transform is called at every step, with an empty
    list when none of its parameters has a gradient, so that counts kept per
    group advance as the group's steps do (pytorch_optimizer's Muon keeps one
    ``group["step"]`` per kind).

    The state holds one sub-state per name, laid out per parameter of the
    group (``None`` at the parameters of other names), so that the optimizer
    can select the parameters of a step as for any transform.
    """

    elementwise = False  # the label needs the whole parameter (a block is a flat slice)

    def __init__(
        self, transforms: Mapping[str, Transform], label: Callable[[np.ndarray], str]
    ) -> None:
        self.transforms, self.label = dict(transforms), label

    def _index(self, params: Arrays) -> dict[str, list[int]]:
        labels = [self.label(p) for p in params]
        for i, name in enumerate(labels):
            if name not in self.transforms:
                raise ValueError(
                    f"partition: label {name!r} of parameter {i} is none of "
                    f"{', '.join(map(repr, self.transforms))}"
                )
        return {name: [i for i, n in enumerate(labels) if n == name] for name in self.transforms}

    def init(self, params: Arrays) -> State:
        state = {}
        for name, index in self._index(params).items():
            own = self.transforms[name].init([params[i] for i in index])
            state[name] = merge(_spread(own, len(params)), own, index)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        result: list = [None] * len(updates)
        for name, index in self._index(params).items():
            part = select(state[name], index)
            out = self.transforms[name].update(
                [updates[i] for i in index], part, [params[i] for i in index]
            )
            merge(state[name], part, index)
            for i, u in zip(index, out, strict=True):
                result[i] = u
        return result

    def _hook(self, hook: str, state: State, params: Arrays) -> None:
        for name, index in self._index(params).items():
            part = select(state[name], index)
            call_hook(self.transforms[name], hook, part, [params[i] for i in index])
            merge(state[name], part, index)

    def to_eval(self, state: State, params: Arrays) -> None:
        self._hook("to_eval", state, params)

    def to_train(self, state: State, params: Arrays) -> None:
        self._hook("to_train", state, params)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self.transforms.items())
        return f"partition({{{inner}}}, label={getattr(self.label, '__name__', self.label)})"


def _spread(state: Any, size: int) -> Any:
    """``state``'s structure with every per-parameter list ``size`` long (all ``None``)."""
    if isinstance(state, PerParam):
        return PerParam([None] * size)
    if isinstance(state, dict):
        return {k: _spread(v, size) for k, v in state.items()}
    return state


def partition(transforms: Mapping[str, Transform], label: Callable[[np.ndarray], str]) -> Partition:
    """Each parameter to ``transforms[label(param)]``, which sees only its parameters."""
    return Partition(transforms, label)


__all__ = ["Cautious", "Lookahead", "Partition", "cautious", "lookahead", "partition"]
