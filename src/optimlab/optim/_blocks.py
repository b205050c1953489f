"""Cache blocking: large parameters updated block by block, out of the student's way.

An element-wise chain (every transform says ``elementwise = True``) gives the
same numbers whether it sees a whole parameter or consecutive slices of it.
For a parameter of more than ``2 * BLOCK`` elements the facade
(:mod:`optimlab.optim.optimizer`) runs the whole chain on one block at a time,
so that the block and its state (Adam: moments, scratch) stay in a core's L2
cache through the chain, where whole-array passes stream every buffer from
memory once per operation (about twice as fast at a million parameters).
Nothing here changes what an optimizer computes; ``tests/optim/test_blocks.py``
checks that blocked and whole updates agree bit for bit for every name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from optimlab.nn.module import Parameter
from optimlab.optim.base import Chain, PerParam, merge, select

#: Elements per block when a large parameter is updated block by block: with its
#: state (Adam: moments, scratch) a block stays in a core's L2 cache through the
#: whole chain, where whole-array passes stream every buffer from memory once per
#: operation.
BLOCK = 1 << 16


def is_elementwise(transform: Any) -> bool:
    """Whether every output element depends only on the same element of the inputs.

    A chain is when all its transforms are; a transform says so with
    ``elementwise = True`` (absent means no: a user's transform is never split).
    """
    if isinstance(transform, Chain):
        return all(is_elementwise(t) for t in transform.transforms)
    return getattr(transform, "elementwise", False) is True


def blockable(state: Any, index: int, size: int) -> bool:
    """Whether every per-parameter array of parameter ``index`` is C-contiguous of ``size``
    (per-parameter numbers, :func:`counters`, are fine; a buffer not made yet is not)."""
    if isinstance(state, PerParam):
        a = state[index]
        if isinstance(a, int | float) and not isinstance(a, bool):
            return True
        return isinstance(a, np.ndarray) and a.size == size and a.flags.c_contiguous
    if isinstance(state, dict):
        return all(blockable(v, index, size) for v in state.values())
    return True


def block(state: Any, before: Any, index: int, part: slice, views: list[tuple]) -> Any:
    """The state of elements ``part`` of parameter ``index``.

    Per-parameter arrays become flat views (each ``(PerParam, view)`` pair is
    appended to ``views``, for :func:`write_back`); the rest is taken from
    ``before`` (``select(state, [index])`` taken before the step: the scalars
    as they were, which transforms reassign, never modify in place), so that
    every block starts from the same counts and ends with the same new ones.
    """
    if isinstance(state, PerParam):
        if isinstance(state[index], np.ndarray):
            view = state[index].reshape(-1)[part]
            leaf = PerParam([view])
            views.append((leaf, view))
        else:  # a per-parameter number: from before the step, written back after
            leaf = PerParam([before[0]])
            views.append((leaf, (state, index)))
        return leaf
    if isinstance(state, dict):
        return {k: block(v, before[k], index, part, views) for k, v in state.items()}
    return before


def write_back(views: list[tuple]) -> None:
    """Copy into the parameter's arrays any block array a transform replaced
    (arrays updated in place are views: already written), and store its new
    per-parameter numbers."""
    for leaf, target in views:
        if isinstance(target, tuple):
            full, index = target
            full[index] = leaf[0]
        elif leaf[0] is not target:
            target[...] = leaf[0]


def large_parameters(
    chain: Chain, state: Any, chosen: list[Parameter], have: list[int]
) -> list[int]:
    """The indices into ``chosen`` (the group's parameters at ``have``) worth taking
    block by block: none unless the chain is element-wise."""
    if not is_elementwise(chain):
        return []
    return [
        j for j, p in enumerate(chosen)
        if p.size > 2 * BLOCK and p.data.flags.c_contiguous
        and p.grad.flags.c_contiguous and blockable(state, have[j], p.size)
    ]  # fmt: skip


def step_by_blocks(
    chain: Chain, state: Any, chosen: list[Parameter], have: list[int], large: list[int],
    step_whole: Callable[[Chain, Any, list[Parameter], list[int] | None], None],
) -> None:  # fmt: skip
    """One update with the ``large`` parameters (indices into ``chosen``) taken block by block.

    Only for element-wise chains, where it gives the same numbers as one whole
    update: every block (and the small parameters together, through the
    facade's ``step_whole``) starts from the scalars as they were before the
    step (a counter advances once), and runs the whole chain while its arrays
    are in cache.
    """
    # The scalars before the step: the group's, and each large parameter's own.
    before = {j: select(state, [have[j]]) for j in large}
    small = [j for j in range(len(chosen)) if j not in large]
    if small:
        step_whole(chain, state, [chosen[j] for j in small], [have[j] for j in small])
    last = None
    for j in large:
        p, i = chosen[j], have[j]
        grad, data = p.grad.reshape(-1), p.data.reshape(-1)  # views: both C-contiguous
        for start in range(0, data.size, BLOCK):
            part_slice = slice(start, start + BLOCK)
            views: list = []
            last = block(state, before[j], i, part_slice, views)
            (u,) = chain.update([grad[part_slice]], last, [data[part_slice]])
            data[part_slice] += u
            write_back(views)
    merge(state, last, [])  # the scalars after the step
