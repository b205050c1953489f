"""PSGD Kron's parts: the factor rule, the update schedule, the fit, and its own Generator.

The rule for which dimension gets a triangular factor and the default schedule's update
decisions are compared with pytorch_optimizer 4.1's own functions
(``initialize_q_expressions``, ``precondition_update_prob_schedule``); the fit is
checked against what it should converge to, :math:`P \\to E[g g^\\top]^{-1/2}`.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch
from pytorch_optimizer.optimizer.psgd import (
    initialize_q_expressions,
    precondition_update_prob_schedule,
)

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.transforms.kron import (
    UpdateProbabilitySchedule,
    fit_factors,
    norm_lower_bound,
    triangular_dims,
    update_probability,
)

SHAPES = [(1,), (7,), (5, 4), (3, 3), (1, 5), (4, 4, 2), (2, 2, 2), (4, 3, 3, 3),
          (64, 32, 3, 3), (3, 3, 5, 5), (9000, 3), (6, 1, 6)]  # fmt: skip
MODES = [None, "one_diag", "smart_one_diag", "all_diag"]
OPTIONS = list(itertools.product([8192, 4, 0], [0, 1, 2, 3], MODES))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_the_factor_rule_is_the_reference_rule(shape):
    for max_size, min_ndim, mode in OPTIONS:
        qs, _ = initialize_q_expressions(torch.zeros(shape), 2.0, max_size, min_ndim, mode)
        expected = [q.dim() == 2 for q in qs]
        ours = triangular_dims(shape, max_size, min_ndim, mode)
        assert ours == expected, (max_size, min_ndim, mode)


def test_factors_start_as_the_reference_s():
    params = [Parameter(np.zeros(s)) for s in [(), (7,), (5, 4), (4, 3, 3, 3)]]
    opt = optim.create("kron", params, precondition_init_scale=3.0, memory_save_mode="one_diag")
    factors = opt._states[0]["0"]["factors"]
    for p, ours in zip(params, factors, strict=True):
        like = torch.zeros(p.data.shape, dtype=torch.float64)
        theirs, _ = initialize_q_expressions(like, 3.0, 8192, 2, "one_diag")
        for q, r in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(q, r.numpy().reshape(q.shape))


def test_default_schedule_gives_the_reference_s_decisions_at_every_step():
    """The reference computes the probability in float32; the decisions ``counter >= 1/p``
    it leads to are the same as optimlab's float64 ones, at every step and counter."""
    reference = precondition_update_prob_schedule()
    for step in range(0, 6000, 1):
        p32, p64 = reference(step), update_probability(step)
        for counter in range(1, 40):
            assert bool(counter >= 1 / p32) == (counter >= 1 / p64), (step, counter)


def test_a_schedule_object_is_the_reference_schedule():
    args = {"max_prob": 0.9, "min_prob": 0.2, "decay": 0.02, "flat_start": 30}
    ours, theirs = UpdateProbabilitySchedule(**args), precondition_update_prob_schedule(**args)
    for step in range(300):
        assert ours(step) == pytest.approx(float(theirs(step)), rel=1e-6)


def test_norm_lower_bound_is_a_lower_bound():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 20):
        for _ in range(20):
            x = rng.standard_normal((n, 3 * n))
            a = x @ x.T
            sigma = np.linalg.norm(a, 2)
            assert sigma / np.sqrt(n) <= norm_lower_bound(a) <= sigma * (1 + 1e-12)
    assert norm_lower_bound(np.zeros((3, 3))) == 0


def test_the_fit_approaches_the_inverse_square_root_of_the_gradient_covariance():
    rng = np.random.default_rng(1)
    s = np.array([0.5, 1.0, 2.0, 4.0])  # a vector: diagonal factor, q^2 -> 1/s
    q = [np.ones(4)]
    for _ in range(5000):
        fit_factors(q, rng.standard_normal(4), s * rng.standard_normal(4), 0.02)
    np.testing.assert_allclose(q[0] ** 2 * s, 1.0, rtol=0.3)
    # A matrix with covariance (A A^T) kron (B B^T): P -> (A A^T)^-1/2 kron (B B^T)^-1/2.
    a = rng.standard_normal((3, 3)) + 2 * np.eye(3)
    b = rng.standard_normal((4, 4)) + 2 * np.eye(4)
    qs = [np.eye(3), np.eye(4)]
    for t in range(5000):
        g = a @ rng.standard_normal((3, 4)) @ b.T
        fit_factors(qs, rng.standard_normal((3, 4)), g, 0.1 if t < 2000 else 0.02)
    assert np.allclose(np.tril(qs[0], -1), 0) and np.allclose(np.tril(qs[1], -1), 0)
    fitted = np.kron(qs[0].T @ qs[0], qs[1].T @ qs[1])
    target = np.kron(_inverse_sqrt(a @ a.T), _inverse_sqrt(b @ b.T))
    assert np.linalg.norm(fitted - target) <= 0.2 * np.linalg.norm(target)


def _inverse_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * w**-0.5) @ v.T


# -- the optimizer's own Generator ---------------------------------------------------------
def _params(seed: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s), f"p{i}") for i, s in enumerate([(5, 4), (7,), ()])]


def _run(opt, params, steps: int, start: int = 0) -> None:
    for t in range(start, start + steps):
        noise = np.random.default_rng(100 + t)
        for p in params:
            p.grad = 0.5 * p.data + noise.standard_normal(p.data.shape)
        opt.step()


def _rng_state(opt) -> dict:
    return opt._states[0]["0"]["rng"]


def test_same_seed_same_steps_other_seed_other_steps():
    runs = {}
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        params = _params()
        opt = optim.create("kron", params, lr=0.02, seed=seed)
        _run(opt, params, 30)
        runs[name] = [p.data.copy() for p in params]
    for x, y in zip(runs["a"], runs["b"], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(runs["a"], runs["c"], strict=True))


def test_the_seed_selects_a_pcg64_stream_kept_as_plain_data():
    opt = optim.create("kron", _params(), seed=11)
    assert _rng_state(opt) == np.random.PCG64(11).state

    def plain(x) -> bool:
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(v) for k, v in x.items())
        return isinstance(x, int | str) and not isinstance(x, bool)

    assert plain(_rng_state(opt))


def test_the_draws_come_in_the_documented_order():
    """Per step: one random(); then, on a fitting step, one standard_normal(shape) per
    parameter with a gradient, in the group's order."""
    params = _params()
    opt = optim.create("kron", params, lr=0.02, seed=5, pre_conditioner_update_probability=0.5)
    _run(opt, params, 6)  # fits on steps 2, 4, 6
    expected = np.random.default_rng(5)
    for t in range(1, 7):
        expected.random()
        if t % 2 == 0:
            for p in params:
                expected.standard_normal(p.data.shape)
    assert _rng_state(opt) == expected.bit_generator.state
    params[1].grad = None  # a parameter without a gradient: no probe for it
    for p in (params[0], params[2]):
        p.grad = np.ones_like(p.data)
    opt.step()
    opt.step()
    expected.random()
    expected.random()
    for p in (params[0], params[2]):
        expected.standard_normal(p.data.shape)
    assert _rng_state(opt) == expected.bit_generator.state


def test_state_dict_round_trips_the_generator_bit_for_bit():
    params = _params()
    opt = optim.create("kron", params, lr=0.02, seed=2, balance_prob=0.5)
    _run(opt, params, 10)
    saved = opt.state_dict()
    snapshot = copy.deepcopy(saved)
    twins = [Parameter(p.data.copy(), p.name) for p in params]
    other = optim.create("kron", twins, lr=0.02, seed=9, balance_prob=0.5)  # seed: restored too
    other.load_state_dict(saved)
    assert _rng_state(other) == _rng_state(opt)
    _run(opt, params, 10, start=10)
    _run(other, twins, 10, start=10)
    for p, q in zip(params, twins, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert _rng_state(other) == _rng_state(opt)
    # the state dict is a copy: the steps since did not advance its Generator state
    assert saved["state"][0]["0"]["rng"] == snapshot["state"][0]["0"]["rng"] != _rng_state(opt)


def test_float32_parameters_use_float32_factors_and_probes():
    params = [Parameter(p.data.astype(np.float32), p.name) for p in _params()]
    opt = optim.create("kron", params, lr=0.02)
    _run(opt, params, 5)
    for p, factors in zip(params, opt._states[0]["0"]["factors"], strict=True):
        assert p.data.dtype == np.float32
        assert all(q.dtype == np.float32 for q in factors)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory_save_mode": "some_diag"}, r"memory_save_mode must be one of None, 'one_diag'"),
        ({"seed": -1}, r"seed must be an integer >= 0; received seed=-1"),
        ({"seed": 1.5}, r"seed must be an integer >= 0; received seed=1.5"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\); received momentum=1.0"),
        (
            {"pre_conditioner_update_probability": 1.5},
            r"pre_conditioner_update_probability must be in \[0, 1\]",
        ),
        ({"precondition_lr": 2.0}, r"precondition_lr must be in \[0, 1\]"),
        ({"precondition_init_scale": 0.0}, r"precondition_init_scale must be > 0"),
        ({"max_size_triangular": 2.5}, r"max_size_triangular must be an integer >= 0"),
        ({"balance_prob": -0.1}, r"balance_prob must be in \[0, 1\]"),
    ],
)
def test_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=rf"kron: {message}"):
        optim.create("kron", _params(), **kwargs)
