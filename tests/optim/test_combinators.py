"""The combinators: partition routes parameters to chains, each alone with its own."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.optim.base import PerParam, chain, merge, select
from optimlab.optim.combinators import partition
from optimlab.optim.transforms import ScaleByAdam, ScaleByLearningRate, Trace

SHAPES = [(3, 2), (4,), (), (2, 2, 2)]


def by_ndim(p: np.ndarray) -> str:
    return "matrix" if p.ndim >= 2 else "rest"


def adam():
    return chain(ScaleByAdam(0.9, 0.99), ScaleByLearningRate(0.01))


def heavy_ball():
    return chain(Trace(0.9), ScaleByLearningRate(0.1))


def test_each_transform_sees_only_its_parameters_and_moves_them_as_alone():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s) for s in SHAPES]
    split = partition({"matrix": adam(), "rest": heavy_ball()}, label=by_ndim)
    state = split.init(params)
    matrices, rest = [0, 3], [1, 2]
    alone = {"matrix": adam(), "rest": heavy_ball()}
    alone_params = {"matrix": [params[i].copy() for i in matrices],
                    "rest": [params[i].copy() for i in rest]}  # fmt: skip
    alone_state = {k: alone[k].init(v) for k, v in alone_params.items()}
    for step in range(6):
        have = [0, 1, 3] if step % 2 else [0, 1, 2, 3]  # parameter 2 skips every other step
        grads = [rng.standard_normal(s) for s in SHAPES]
        part = select(state, have)
        updates = split.update([grads[i] for i in have], part, [params[i] for i in have])
        for i, u in zip(have, updates, strict=True):
            params[i] += u
        for name, index in (("matrix", matrices), ("rest", rest)):
            mine = [j for j, i in enumerate(index) if i in have]
            sub = select(alone_state[name], mine)
            ps = [alone_params[name][j] for j in mine]
            steps = alone[name].update([grads[index[j]] for j in mine], sub, ps)
            for p, u in zip(ps, steps, strict=True):
                p += u
            merge(alone_state[name], sub, mine)
        merge(state, part, have)
    for name, index in (("matrix", matrices), ("rest", rest)):
        for j, i in enumerate(index):
            np.testing.assert_array_equal(params[i], alone_params[name][j])
    assert state["rest"]["0"]["buf"][0] is None  # parameter 0 is a matrix: no momentum here


def test_a_label_without_a_transform_is_an_error():
    split = partition({"matrix": adam()}, label=by_ndim)
    with pytest.raises(ValueError, match=r"partition: label 'rest' of parameter 1 is none of"):
        split.init([np.zeros((2, 2)), np.zeros(3)])


def test_state_is_laid_out_per_parameter_of_the_group():
    split = partition({"matrix": adam(), "rest": heavy_ball()}, label=by_ndim)
    state = split.init([np.zeros((2, 2)), np.zeros(3)])
    m = state["matrix"]["0"]["m"]
    assert isinstance(m, PerParam) and len(m) == 2 and m[1] is None and m[0].shape == (2, 2)
