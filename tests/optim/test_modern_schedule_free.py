"""Schedule-free optimizers: the parameters hold y; eval() gives x, train() gives y back."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_optimizer as po
import torch

from optimlab import optim
from optimlab.nn import Parameter

SHAPES = [(5, 4), (7,), (2, 3, 4)]
BETA = {"schedulefree-sgd": 0.9, "schedulefree-adamw": 0.9}  # momentum, betas[0] (defaults)
NAMES = list(BETA)
REFERENCES = {"schedulefree-sgd": po.ScheduleFreeSGD, "schedulefree-adamw": po.ScheduleFreeAdamW}


def make_params(seed: int = 0, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype), f"p{i}") for i, s in enumerate(SHAPES)]


def run(opt, params: list[Parameter], steps: int, seed: int = 1, skip: int | None = None) -> None:
    noise = np.random.default_rng(seed)
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = None if i == skip else 0.5 * p.data + noise.standard_normal(p.shape)
        opt.step()


def z_of(opt) -> list:
    """The z sequence from the state dict (the chain's only transform)."""
    return opt.state_dict()["state"][0]["0"]["z"]


def snapshot(params: list[Parameter]) -> list[np.ndarray]:
    return [p.data.copy() for p in params]


@pytest.mark.parametrize("name", NAMES)
def test_eval_and_train_before_the_first_step_are_no_ops(name):
    params = make_params()
    start = snapshot(params)
    opt = optim.create(name, params, lr=0.05)
    opt.eval()
    opt.train()
    opt.eval()
    for p, s in zip(params, start, strict=True):
        np.testing.assert_array_equal(p.data, s)
    # The reference does the same: no z yet, so nothing moves.
    tensors = [torch.tensor(s.copy()) for s in start]
    ref = REFERENCES[name](tensors, lr=0.05)
    ref.eval()
    for t, s in zip(tensors, start, strict=True):
        np.testing.assert_array_equal(t.numpy(), s)


@pytest.mark.parametrize("name", NAMES)
def test_eval_gives_the_average_and_train_restores_y(name):
    beta = BETA[name]
    params = make_params()
    opt = optim.create(name, params, lr=0.05)
    run(opt, params, 30)
    y = snapshot(params)
    z = z_of(opt)
    opt.eval()
    for p, y_i, z_i in zip(params, y, z, strict=True):
        x = (y_i - (1.0 - beta) * z_i) / beta
        np.testing.assert_allclose(p.data, x, rtol=1e-12, atol=1e-14)
        assert not np.allclose(p.data, y_i)
    x = snapshot(params)
    opt.eval()  # already evaluating: no-op
    for p, x_i in zip(params, x, strict=True):
        np.testing.assert_array_equal(p.data, x_i)
    opt.train()
    for p, y_i in zip(params, y, strict=True):
        np.testing.assert_allclose(p.data, y_i, rtol=1e-13, atol=1e-14)
    y_again = snapshot(params)
    opt.train()  # already training: no-op
    for p, y_i in zip(params, y_again, strict=True):
        np.testing.assert_array_equal(p.data, y_i)


@pytest.mark.parametrize("name", NAMES)
def test_eval_and_train_leave_parameters_that_never_stepped(name):
    params = make_params()
    frozen = params[1].data.copy()
    opt = optim.create(name, params, lr=0.05)
    run(opt, params, 10, skip=1)
    opt.eval()
    np.testing.assert_array_equal(params[1].data, frozen)
    opt.train()
    np.testing.assert_array_equal(params[1].data, frozen)


@pytest.mark.parametrize("name", NAMES)
def test_the_mode_is_part_of_the_state_dict(name):
    params = make_params()
    opt = optim.create(name, params, lr=0.05)
    run(opt, params, 12)
    opt.eval()
    copies = [Parameter(p.data.copy(), p.name) for p in params]
    other = optim.create(name, copies, lr=0.05)
    other.load_state_dict(opt.state_dict())
    other.eval()  # it knows it is evaluating already: no-op
    for p, q in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    opt.train()
    other.train()
    for p, q in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name", NAMES)
def test_lookahead_passes_eval_and_train_through(name):
    params = make_params()
    opt = optim.create("lookahead-" + name, params, lr=0.05, k=3)
    run(opt, params, 10)
    y = snapshot(params)
    opt.eval()
    assert not np.allclose(params[0].data, y[0])
    opt.train()
    for p, y_i in zip(params, y, strict=True):
        np.testing.assert_allclose(p.data, y_i, rtol=1e-13, atol=1e-14)


def test_float32_eval_stays_in_place():
    params = make_params(dtype=np.float32)
    arrays = [p.data for p in params]
    opt = optim.create("schedulefree-adamw", params, lr=0.01)
    run(opt, params, 5)
    opt.eval()
    opt.train()
    for p, a in zip(params, arrays, strict=True):
        assert p.data is a and p.data.dtype == np.float32
