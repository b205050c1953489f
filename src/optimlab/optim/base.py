"""Transforms: the small pieces every optimizer is built from.

A transform turns incoming updates (at the start of a chain: the gradients)
into outgoing updates, keeping whatever it needs in an explicit state::

    state = transform.init(params)                    # once
    updates = transform.update(updates, state, params)  # every step

``params`` and ``updates`` are lists of arrays of the same shapes.
Hyperparameters are plain Python numbers given to the constructor: the facade
(:class:`~optimlab.optim.optimizer.Optimizer`) evaluates every schedule once per
step and parameter group, on the group's clock, and builds the transforms with
the numbers of that step (one clock; a transform never evaluates a schedule).

``state`` is a ``dict`` owned by the caller and updated **in place** (arrays
with ``out=``, numbers by assignment), because new arrays every step cost
2.5-3.8x at 1M+ parameters in NumPy. Per-parameter arrays are kept in
:class:`PerParam` lists so that the optimizer can hand a transform just the
parameters that have a gradient this step (:func:`select`, :func:`merge`).
Step counts that drive a bias correction are per parameter too
(:func:`counters`: Python numbers in a :class:`PerParam`), as in
``torch.optim``: a parameter that skips steps, or receives its first gradient
late, is debiased for its own age; a transform that follows a reference
counting the group's steps keeps one number instead (``state["count"]``).

**Inputs are read only.** A transform never writes into the updates it
receives (the first ones are the caller's ``.grad``) nor into ``params``; it
writes into buffers of its own state and returns those. One exception, said
by the class attribute ``writes_params = True``: decoupled weight decay
(:class:`~optimlab.optim.transforms.DecoupledWeightDecay`) multiplies the
parameters in place *before* the step, so that the transforms after it see
the decayed weights, exactly as ``torch.optim.AdamW`` and pytorch_optimizer
do (LAMB's trust ratio, schedule-free's ``y``); writing it as an update would
hand them the undecayed weights or cost a copy of every parameter.

:func:`chain` composes transforms left to right; the named optimizers of
:mod:`optimlab.optim.aliases` are short chains (the idea of optax, with
in-place NumPy state). Transforms around transforms (Lookahead, partition)
are in :mod:`optimlab.optim.combinators`; cache blocking of large parameters
in :mod:`optimlab.optim._blocks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

State = dict[str, Any]
Arrays = list[np.ndarray]


class PerParam(list):
    """A list with one entry per parameter (arrays, or ``None`` before first use)."""


@runtime_checkable
class Transform(Protocol):
    """``init(params) -> state`` and ``update(updates, state, params) -> updates``."""

    def init(self, params: Arrays) -> State: ...

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays: ...


def zeros_like_each(params: Arrays) -> PerParam:
    """One zero array per parameter, of its shape and dtype."""
    return PerParam(np.zeros_like(p) for p in params)


def counters(params: Arrays, start: float = 0) -> PerParam:
    """One Python number per parameter (a step count, a running weight), all ``start``."""
    return PerParam([start] * len(params))


def zero_buffers(params: Arrays, *names: str) -> State:
    """Per name, one zero array per parameter (moments, scratch space)."""
    return {name: zeros_like_each(params) for name in names}


def buffers(params: Arrays, *names: str) -> State:
    """The usual initial state: a group step counter and :func:`zero_buffers`."""
    return {"count": 0, **zero_buffers(params, *names)}


class Chain:
    """Apply transforms one after the other; the state is one sub-state per transform."""

    def __init__(self, *transforms: Transform) -> None:
        self.transforms = transforms

    def init(self, params: Arrays) -> State:
        return {str(i): t.init(params) for i, t in enumerate(self.transforms)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        for i, t in enumerate(self.transforms):
            updates = t.update(updates, state[str(i)], params)
        return updates

    def to_eval(self, state: State, params: Arrays) -> None:
        """Put ``params`` in their evaluation form: each sub-transform's ``to_eval``, if any."""
        for i, t in enumerate(self.transforms):
            call_hook(t, "to_eval", state[str(i)], params)

    def to_train(self, state: State, params: Arrays) -> None:
        """Put ``params`` back in their training form (each sub-transform's ``to_train``)."""
        for i, t in enumerate(self.transforms):
            call_hook(t, "to_train", state[str(i)], params)

    def __repr__(self) -> str:
        return "chain(" + ", ".join(map(repr, self.transforms)) + ")"


def call_hook(transform: Transform, name: str, state: State, params: Arrays) -> None:
    """``transform.<name>(state, params)`` if the transform has that method.

    The hooks are ``to_eval`` and ``to_train`` (``optimizer.eval()`` /
    ``train()``: schedule-free moves the parameters between y and x);
    combinators pass them on to the transforms they hold.
    """
    method = getattr(transform, name, None)
    if method is not None:
        method(state, params)


def chain(*transforms: Transform) -> Chain:
    """Compose ``transforms``: the updates of each are the input of the next."""
    return Chain(*transforms)


def select(state: Any, index: Sequence[int]) -> Any:
    """The part of ``state`` that belongs to the parameters at ``index`` (shares arrays)."""
    if isinstance(state, PerParam):
        return PerParam(state[i] for i in index)
    if isinstance(state, dict):
        return {k: select(v, index) for k, v in state.items()}
    return state


def merge(full: Any, part: Any, index: Sequence[int]) -> Any:
    """Write ``part`` (from :func:`select`, after an update) back into ``full``."""
    if isinstance(full, PerParam):
        for j, i in enumerate(index):
            full[i] = part[j]
        return full
    if isinstance(full, dict):
        for k in full:
            full[k] = merge(full[k], part[k], index)
        return full
    return part
