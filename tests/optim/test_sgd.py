"""SGD against torch.optim.SGD, step by step, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optimlab import optim
from optimlab.nn import Parameter

SHAPES = [(5, 4), (7,), (2, 3, 4)]
STEPS = 200


def _gradients(rng: np.random.Generator, params: list[np.ndarray]) -> list[np.ndarray]:
    # A gradient that depends on the parameters (a quadratic) plus noise, so
    # that a wrong update shows up in later gradients too.
    return [0.5 * p + rng.standard_normal(p.shape) for p in params]


def run_both(hyperparameters: dict, steps: int = STEPS) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(shape) for shape in SHAPES]
    ours = [Parameter(a.copy(), name=f"p{i}") for i, a in enumerate(init)]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.create("sgd", ours, **hyperparameters)
    ref = torch.optim.SGD(theirs, **hyperparameters)
    noise = np.random.default_rng(1)
    for _ in range(steps):
        grads = _gradients(noise, [p.data for p in ours])
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad = g.copy()
            t.grad = torch.tensor(g.copy())
        opt.step()
        ref.step()
    return [p.data for p in ours], [t.detach().numpy() for t in theirs]


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"lr": 0.01},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.02, "momentum": 0.8, "nesterov": True},
        {"lr": 0.03, "momentum": 0.5, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.01, "momentum": 0.9, "nesterov": True},
    ],
    ids=repr,
)
def test_sgd_matches_torch(hyperparameters):
    ours, theirs = run_both(hyperparameters)
    for a, b in zip(ours, theirs, strict=True):
        rel = np.max(np.abs(a - b)) / np.max(np.abs(b))
        assert rel <= 1e-9, f"relative error {rel:.3e}"


def test_sgd_default_lr_is_torchs():
    assert optim.hyperparameters_of("sgd")["lr"] == torch.optim.SGD([torch.zeros(1)]).defaults["lr"]


def test_float32_stays_float32():
    p = Parameter(np.ones((3, 2), dtype=np.float32))
    opt = optim.create("sgd", [p], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        p.grad = np.full((3, 2), 0.5, dtype=np.float32)
        opt.step()
    assert p.data.dtype == np.float32
    assert opt.state[p]["momentum_buffer"].dtype == np.float32


def test_parameter_without_gradient_is_skipped():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
    opt = optim.create("sgd", [a, b], lr=0.5)
    a.grad = np.ones(3)
    opt.step()
    np.testing.assert_array_equal(a.data, 0.5)
    np.testing.assert_array_equal(b.data, 1.0)


def test_parameter_groups_have_their_own_lr():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.create("sgd", [{"params": [a]}, {"params": [b], "lr": 0.25}], lr=0.5)
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, 0.5)
    np.testing.assert_array_equal(b.data, 0.75)


def test_state_dict_round_trip_continues_in_lockstep():
    rng = np.random.default_rng(3)
    init = rng.standard_normal((4, 3))
    grads = rng.standard_normal((10, 4, 3))
    a = Parameter(init.copy())
    opt_a = optim.create("sgd", [a], lr=0.1, momentum=0.9, nesterov=True)
    for g in grads[:4]:
        a.grad = g.copy()
        opt_a.step()
    saved = opt_a.state_dict()
    b = Parameter(a.data.copy())
    opt_b = optim.create("sgd", [b], lr=0.1, momentum=0.9, nesterov=True)
    opt_b.load_state_dict(saved)
    for g in grads[4:]:
        a.grad, b.grad = g.copy(), g.copy()
        opt_a.step()
        opt_b.step()
        np.testing.assert_array_equal(a.data, b.data)
    # The state dict taken earlier is a copy: later in-place updates left it alone.
    assert not np.array_equal(
        saved["state"][0]["momentum_buffer"], opt_a.state[a]["momentum_buffer"]
    )
    assert opt_b.step_count == opt_a.step_count == 10


def test_load_state_dict_of_another_optimizer_is_refused():
    p = Parameter(np.ones(2))
    opt = optim.create("sgd", [p])
    state = opt.state_dict()
    state["optimizer"] = "adam"
    with pytest.raises(ValueError, match="state dict is of optimizer 'sgd'; received 'adam'"):
        opt.load_state_dict(state)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"lr": -0.1}, r"sgd: lr must be >= 0; received lr=-0.1"),
        ({"momentum": -0.5}, r"sgd: momentum must be >= 0; received momentum=-0.5"),
        ({"weight_decay": -1.0}, r"weight_decay must be >= 0; received weight_decay=-1.0"),
        ({"nesterov": True}, r"nesterov=True needs momentum > 0 and dampening = 0"),
        ({"momentum": 0.9, "dampening": 0.1, "nesterov": True}, r"received momentum=0.9, damp"),
        ({"momentun": 0.9}, r"unknown hyperparameter 'momentun'; did you mean 'momentum'\?"),
        ({"lr": float("nan")}, r"sgd: lr must be a number; received lr=nan"),
    ],
    ids=repr,
)
def test_bad_hyperparameters_are_named(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        optim.create("sgd", [Parameter(np.ones(2))], **kwargs)


def test_unknown_optimizer_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown optimizer 'sdg'; did you mean 'sgd'\?"):
        optim.create("sdg", [Parameter(np.ones(2))])


def test_empty_params_are_refused():
    with pytest.raises(ValueError, match="at least one Parameter"):
        optim.create("sgd", [])


def test_zero_grad_sets_to_none_or_zero():
    p = Parameter(np.ones(2))
    opt = optim.create("sgd", [p])
    p.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, 0.0)
    opt.zero_grad()
    assert p.grad is None
