"""Demon: the schedule, the exact bias correction, and the paper's undampened form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.schedules import demon


def test_schedule_values():
    s = demon(0.9, 100)
    assert s(0) == pytest.approx(0.9, abs=1e-15)
    # beta_t / (1 - beta_t) = (1 - t/T) beta_0 / (1 - beta_0): at t = T/2 it is 4.5, beta = 9/11
    assert s(50) == pytest.approx(9 / 11, rel=1e-14)
    assert s(100) == 0.0 and s(1000) == 0.0
    assert isinstance(s(3), float)


@settings(max_examples=50, deadline=None)
@given(
    beta0=st.floats(0.0, 0.999),
    total=st.integers(1, 500),
    g=st.floats(-100, 100, allow_nan=False),
)
def test_debiased_moments_of_a_constant_gradient_are_the_gradient(beta0, total, g):
    """With a constant gradient every debiased moment is exactly the gradient, for any
    beta schedule: the running weights w <- 1 + beta w make the correction exact."""
    p = Parameter(np.zeros(3))
    opt = optim.create("demon-adam", [p], betas=(beta0, 0.999), total_steps=total)
    for _ in range(min(total + 5, 60)):
        p.grad = np.full((3,), g)
        opt.step()
        adam = opt.state_dict()["state"][0]["1"]  # the chain's ScaleByAdam
        np.testing.assert_allclose(adam["m"][0], g, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(adam["v"][0], g * g, rtol=1e-12, atol=1e-300)


def test_the_naive_correction_would_be_wrong():
    """What the running weights fix: Adam's 1 - beta1_t^t with the current beta is off."""
    s = demon(0.9, 50)
    m, g = 0.0, 1.0
    for t in range(1, 21):
        m = s(t - 1) * m + (1 - s(t - 1)) * g
    naive = m / (1 - s(19) ** 20)
    assert abs(naive - g) > 0.01


def paper_demon_adam(grads, lr, beta0, b2, eps, total):
    """Chen et al., arXiv:1910.04952, Algorithm 2, written out as the paper does."""
    theta = [np.zeros_like(g) for g in grads[0]]
    m = [np.zeros_like(g) for g in grads[0]]
    v = [np.zeros_like(g) for g in grads[0]]
    for t, gs in enumerate(grads):
        beta_t = (
            beta0 * (1 - t / total) / ((1 - beta0) + beta0 * (1 - t / total)) if t < total else 0.0
        )
        for i, g in enumerate(gs):
            m[i] = g + beta_t * m[i]
            v[i] = b2 * v[i] + (1 - b2) * g * g
            v_hat = v[i] / (1 - b2 ** (t + 1))
            theta[i] = theta[i] - lr * m[i] / (np.sqrt(v_hat) + eps)
    return theta


def test_paper_form_is_algorithm_2():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (5,)]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(80)]
    ps = [Parameter(np.zeros(s)) for s in shapes]
    opt = optim.create("demon-adam", ps, lr=0.01, total_steps=60, demon_form="paper")
    for gs in grads:
        for p, g in zip(ps, gs, strict=True):
            p.grad = g.copy()
        opt.step()
    expected = paper_demon_adam(grads, 0.01, 0.9, 0.999, 1e-8, 60)
    for p, e in zip(ps, expected, strict=True):
        np.testing.assert_allclose(p.data, e, rtol=1e-10)


def test_normalized_form_is_the_default_and_differs_from_the_paper():
    assert optim.hyperparameters_of("demon-adam")["demon_form"] == "normalized"
    rng = np.random.default_rng(1)
    a, b = Parameter(np.zeros(5)), Parameter(np.zeros(5))
    opt_a = optim.create("demon-adam", [a], lr=0.01, total_steps=50)
    opt_b = optim.create("demon-adam", [b], lr=0.01, total_steps=50, demon_form="paper")
    for _ in range(10):
        g = rng.standard_normal(5)
        a.grad, b.grad = g.copy(), g.copy()
        opt_a.step()
        opt_b.step()
    assert not np.allclose(a.data, b.data)


def test_demon_adamax_follows_its_equations():
    """No library has Demon Adamax: check it against the equations written out."""
    rng = np.random.default_rng(2)
    p = Parameter(rng.standard_normal(6))
    theta = p.data.copy()
    opt = optim.create("demon-adamax", [p], lr=0.01, total_steps=30)
    s = demon(0.9, 30)
    m, u, w = np.zeros(6), np.zeros(6), 0.0
    for t in range(40):
        g = 0.5 * theta + rng.standard_normal(6)
        p.grad = g.copy()
        opt.step()
        beta = s(t)
        w = 1 + beta * w
        m = (1 - 1 / w) * m + g / w  # the debiased first moment
        u = np.maximum(0.999 * u, np.abs(g) + 1e-8)
        theta = theta - 0.01 * m / u
        np.testing.assert_allclose(p.data, theta, rtol=1e-12)


def test_demon_with_a_huge_horizon_is_the_base_optimizer():
    rng = np.random.default_rng(3)
    a, b = Parameter(rng.standard_normal(4)), None
    b = Parameter(a.data.copy())
    opt_a = optim.create("demon-adam", [a], lr=0.01, total_steps=10**15)
    opt_b = optim.create("adam", [b], lr=0.01)
    for _ in range(50):
        g = rng.standard_normal(4)
        a.grad, b.grad = g.copy(), g.copy()
        opt_a.step()
        opt_b.step()
    np.testing.assert_allclose(a.data, b.data, rtol=1e-10)


def test_adamax_debiasing_with_a_schedule_is_exact_too():
    p = Parameter(np.zeros(2))
    opt = optim.create("demon-adamax", [p], betas=(0.95, 0.999), total_steps=20)
    for _ in range(30):
        p.grad = np.full((2,), 3.0)
        opt.step()
        adamax = opt.state_dict()["state"][0]["1"]
        np.testing.assert_allclose(adamax["m"][0], 3.0, rtol=1e-13)


def test_the_facade_is_the_one_clock():
    """Transforms receive this step's numbers: Demon's beta_t is evaluated by the
    facade at the group's count, and the chain holds plain floats."""
    p = Parameter(np.zeros(2))
    opt = optim.create("demon-momentum", [p], lr=0.1, total_steps=10)
    s = demon(0.9, 10)
    for t in range(12):
        p.grad = np.ones(2)
        assert opt._current(0).transforms[1].momentum == s(t)
        opt.step()
