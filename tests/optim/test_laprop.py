"""LaProp where optimlab follows the equations rather than pytorch_optimizer 4.1."""

from __future__ import annotations

import numpy as np

from optimlab import optim
from optimlab.nn import Parameter


def test_coupled_decay_is_the_gradient_plus_lambda_theta():
    """weight_decouple=False: LaProp of g + lambda theta (pytorch_optimizer 4.1 adds the
    decay to the gradient after the step has used it, so there it does nothing)."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 3))
    a, b = Parameter(start.copy()), Parameter(start.copy())
    coupled = optim.create("laprop", [a], lr=0.01, weight_decay=0.1, weight_decouple=False)
    plain = optim.create("laprop", [b], lr=0.01)
    for _ in range(50):
        g = rng.standard_normal((4, 3))
        a.grad = g.copy()
        b.grad = g + 0.1 * b.data
        coupled.step()
        plain.step()
        np.testing.assert_allclose(a.data, b.data, rtol=1e-13, atol=1e-15)
    assert not np.allclose(a.data, optim_without_decay(start, rng))


def optim_without_decay(start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same number of LaProp steps without any decay (it must differ)."""
    p = Parameter(start.copy())
    opt = optim.create("laprop", [p], lr=0.01)
    for _ in range(50):
        p.grad = rng.standard_normal((4, 3))
        opt.step()
    return p.data


def test_a_constant_rate_debiases_as_adam():
    """c_t / lr = 1 - beta1^t for a constant rate: the first step moves every coordinate
    by lr * g / (|g| + eps') in the sign of -g, as Adam's first step does."""
    p = Parameter(np.array([1.0, -2.0, 3.0]))
    opt = optim.create("laprop", [p], lr=0.1, eps=1e-30)
    p.grad = np.array([0.5, -4.0, 0.01])  # large against the 1e-15 inside the root
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9], rtol=1e-9)
