"""SOAP's ``merge_dims`` rule: pytorch_optimizer's ``merge_small_dims`` without its size-1
dimensions, and ``(numel,)`` where the reference returns ``[1]``."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from pytorch_optimizer.optimizer.utils.shape import merge_small_dims

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.transforms.soap import merged_shape

SHAPES = [(4, 3, 3, 3), (4, 3, 2, 5), (5, 4), (7,), (1, 5), (64, 32, 3, 3), (2, 1, 3), (20000, 3)]


@pytest.mark.parametrize(
    ("shape", "max_dim"), list(itertools.product(SHAPES, [1, 4, 6, 12, 100, 10000]))
)
def test_merged_shape_is_the_references_without_size_one_dims(shape, max_dim):
    ours = merged_shape(shape, max_dim)
    assert math.prod(ours) == math.prod(shape)
    theirs = merge_small_dims(list(shape), max_dim)
    if theirs == [1] and math.prod(shape) > 1:  # the reference's failure: one dimension
        assert ours == (math.prod(shape),)
    else:
        assert ours == tuple(d for d in theirs if d != 1) or ours == (1,)


def test_examples():
    assert merged_shape((4, 3, 3, 3), 12) == (12, 9)
    assert merged_shape((4, 3, 3, 3), 10000) == (108,)
    assert merged_shape((64, 32, 3, 3), 10000) == (6144, 3)  # from the front


def test_a_whole_kernel_merged_into_one_dimension_gets_one_basis():
    """(2, 3) merged into (6,) is preconditioned as a vector would be with precondition_1d."""
    rng = np.random.default_rng(0)
    a, b = Parameter(rng.standard_normal((2, 3)), "a"), Parameter(np.zeros(6), "b")
    b.data[...] = a.data.reshape(-1)
    opt_a = optim.create("soap", [a], merge_dims=True)
    opt_b = optim.create("soap", [b], precondition_1d=True)
    for _ in range(30):
        g = rng.standard_normal(6)
        a.grad, b.grad = g.reshape(2, 3).copy(), g.copy()
        opt_a.step()
        opt_b.step()
    np.testing.assert_allclose(a.data.reshape(-1), b.data, rtol=1e-12, atol=1e-14)
    assert opt_a._states[0]["1"]["Q"][0][0].shape == (6, 6)
