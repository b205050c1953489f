"""The PyTorch-like facade: groups, changing hyperparameters, names and errors, registration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.base import chain
from optimlab.optim.transforms import ScaleByLearningRate, Trace


def params(seed: int = 0, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype)) for s in [(3, 2), (4,)]]


def grads(ps: list[Parameter], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for p in ps:
        p.grad = rng.standard_normal(p.shape).astype(p.data.dtype)


def test_groups_are_separate_optimizers():
    a, b = params(), params()
    opt = optim.create("adam", [{"params": a[:1], "lr": 0.1}, {"params": a[1:]}], lr=0.01)
    first = optim.create("adam", b[:1], lr=0.1)
    second = optim.create("adam", b[1:], lr=0.01)
    for t in range(5):
        grads(a, t)
        grads(b, t)
        opt.step()
        first.step()
        second.step()
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_changing_a_group_lr_between_steps_takes_effect_as_in_torch():
    ours = params()
    theirs = [torch.tensor(p.data.copy()) for p in ours]
    opt = optim.create("nesterov", ours, lr=0.1)
    ref = torch.optim.SGD(theirs, lr=0.1, momentum=0.9, nesterov=True)
    for t in range(10):
        if t == 4:
            opt.param_groups[0]["lr"] = 0.02
            ref.param_groups[0]["lr"] = 0.02
        grads(ours, t)
        for p, q in zip(ours, theirs, strict=True):
            q.grad = torch.tensor(p.grad.copy())
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, q.numpy(), rtol=1e-12)


def test_a_bad_value_set_on_a_group_is_refused_at_the_next_step():
    ps = params()
    opt = optim.create("sgd", ps, lr=0.1)
    opt.param_groups[0]["lr"] = -1.0
    grads(ps, 0)
    with pytest.raises(ValueError, match=r"sgd: lr must be >= 0; received lr=-1\.0"):
        opt.step()


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("adma", r"unknown optimizer 'adma'; did you mean [^?]*'adam'"),
        ("demon-adma", r"unknown optimizer 'demon-adma'; did you mean [^?]*'demon-adam'"),
        ("lookahead-nesterv", r"did you mean 'lookahead-nesterov'"),
        (
            "demon-adagrad",
            r"demon-adagrad: Demon decays a momentum coefficient and 'adagrad' has none",
        ),
        ("lookahead-lookahead-sgd", r"Lookahead cannot wrap itself"),
    ],
)
def test_unknown_or_impossible_names(name, pattern):
    with pytest.raises(ValueError, match=pattern):
        optim.create(name, params())


@pytest.mark.parametrize(
    ("name", "kwargs", "pattern"),
    [
        (
            "demon-adam",
            {},
            r"demon-adam: total_steps must be an integer >= 1; received total_steps=None",
        ),
        ("adam", {"betas": (0.9, 1.5)}, r"adam: beta2 must be in \[0, 1\); received beta2=1.5"),
        ("adam", {"betas": 0.9}, r"adam: betas must be a tuple of 2 numbers; received betas=0.9"),
        ("qhadam", {"nus": (1.2, 1.0)}, r"qhadam: nu1 must be in \[0, 1\]; received nu1=1.2"),
        ("sgd", {"nesterov": True}, r"sgd: nesterov=True needs momentum > 0 and dampening = 0"),
        ("sgd", {"momentum": 1.0}, r"sgd: momentum must be in \[0, 1\); received momentum=1.0"),
        (
            "adamw",
            {"weight_decay": -0.1},
            r"adamw: weight_decay must be >= 0; received weight_decay=-0.1",
        ),
        ("lookahead-adam", {"k": 0}, r"lookahead-adam: k must be an integer >= 1; received k=0"),
        (
            "lookahead-adam",
            {"alpha": 2.0},
            r"lookahead-adam: alpha must be in \[0, 1\]; received alpha=2.0",
        ),
        (
            "demon-adam",
            {"total_steps": 10, "demon_form": "x"},
            r"demon_form must be one of 'normalized', 'paper'",
        ),
        ("adam", {"lr": "fast"}, r"adam: lr must be a number; received lr='fast'"),
        ("sgd", {"momentun": 0.9}, r"unknown hyperparameter 'momentun'; did you mean 'momentum'\?"),
    ],
)
def test_bad_hyperparameters_name_the_value(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        optim.create(name, params(), **kwargs)


def test_load_state_dict_of_another_optimizer_is_refused():
    opt = optim.create("adam", params())
    state = optim.create("sgd", params()).state_dict()
    with pytest.raises(ValueError, match="state dict is of optimizer 'adam'; received 'sgd'"):
        opt.load_state_dict(state)


def test_empty_params_are_refused():
    with pytest.raises(ValueError, match="at least one Parameter"):
        optim.create("adam", [])


def test_zero_grad_sets_to_none_or_zero():
    ps = params()
    opt = optim.create("sgd", ps)
    grads(ps, 0)
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)


def assert_same_steps(opt_a, a: list[Parameter], opt_b, b: list[Parameter], steps: int) -> None:
    """Both optimizers, fed the same gradients, keep their parameters equal."""
    for t in range(steps):
        grads(a, t)
        grads(b, t)
        opt_a.step()
        opt_b.step()
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_named_classes_are_the_registry_entries():
    a, b = params(), params()
    assert_same_steps(optim.Adam(a, lr=0.01), a, optim.create("adam", b, lr=0.01), b, 3)
    assert "arXiv:1412.6980" in optim.Adam.__doc__


def test_reductions():
    """qhadam with nus=(1, 1) is adam; <name>w with weight_decay=0 is <name>;
    lookahead with k=1, alpha=1 is the inner optimizer."""
    pairs = [
        ("qhadam", {"nus": (1.0, 1.0)}, "adam", {}),
        ("adamaxw", {"weight_decay": 0.0}, "adamax", {}),
        ("nesterovw", {"weight_decay": 0.0}, "nesterov", {}),
        ("lookahead-adam", {"k": 1, "alpha": 1.0}, "adam", {}),
    ]
    for name_a, kw_a, name_b, kw_b in pairs:
        a, b = params(), params()
        opt_a, opt_b = optim.create(name_a, a, **kw_a), optim.create(name_b, b, **kw_b)
        for t in range(20):
            grads(a, t)
            grads(b, t)
            opt_a.step()
            opt_b.step()
        for p, q in zip(a, b, strict=True):
            np.testing.assert_allclose(p.data, q.data, rtol=1e-13, err_msg=f"{name_a} vs {name_b}")


def test_register_a_new_optimizer_and_compose_it():
    def heavy_ball(lr, momentum):
        """Heavy ball: b = momentum b + g; p -= lr b."""
        return chain(Trace(momentum), ScaleByLearningRate(lr))

    name = "test-heavyball"
    if name not in optim.OPTIMIZERS:
        optim.register(name, heavy_ball, defaults={"lr": 0.1, "momentum": 0.9}, momentum="momentum")
    assert {name, name + "w", "demon-" + name, "lookahead-demon-" + name + "w"} <= set(
        optim.available()
    )
    ours = params()
    theirs = [torch.tensor(p.data.copy()) for p in ours]
    opt = optim.create("demon-" + name + "w", ours, lr=0.05, weight_decay=0.1, total_steps=8)
    ref = torch.optim.SGD(theirs, lr=0.05, momentum=0.9)
    schedule = optim.schedules.demon(0.9, 8)
    for t in range(12):
        grads(ours, t)
        for p, q in zip(ours, theirs, strict=True):
            q.grad = torch.tensor(p.grad.copy())
            q.mul_(1 - 0.05 * 0.1)
        ref.param_groups[0]["momentum"] = schedule(t)
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, q.numpy(), rtol=1e-12)


def test_register_refuses_bad_specs():
    with pytest.raises(ValueError, match="defaults must include 'lr'"):
        optim.register("nolr", lambda momentum: None, defaults={"momentum": 0.9})
    with pytest.raises(ValueError, match="momentum must be None, 'momentum' or 'betas'"):
        optim.register("badmom", lambda lr: None, defaults={"lr": 0.1}, momentum="beta")


def test_no_second_decoupled_decay():
    with pytest.raises(ValueError, match="'schedulefree-adamw' already has decoupled weight decay"):
        optim.create("schedulefree-adamww", params())
    assert "schedulefree-adamww" not in optim.available()


def test_a_parameter_listed_twice_is_named_with_where():
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(3), "b")
    with pytest.raises(ValueError, match=r"adam: parameter 'a' appears twice in parameter group 0"):
        optim.create("adam", [a, b, a])
    with pytest.raises(ValueError, match=r"'b' appears in two parameter groups \(0 and 1\)"):
        optim.create("adam", [{"params": [a, b]}, {"params": [b]}])


@pytest.mark.parametrize("bad", [Parameter(np.zeros(2), "w"), 3, "abc", None])
def test_params_must_be_an_iterable_of_parameters(bad):
    with pytest.raises(TypeError, match=r"sgd: expected an iterable of Parameters"):
        optim.create("sgd", bad, lr=0.1)


def test_a_single_parameter_error_says_how_to_pass_it():
    with pytest.raises(TypeError, match=r"received a single Parameter 'w': pass \[parameter\]"):
        optim.create("sgd", Parameter(np.zeros(2), "w"), lr=0.1)


def test_momentum_on_a_0d_parameter_with_numpy_scalar_gradients_matches_torch():
    """The issue's case: p.grad = 2 * (p.data - 3) is an np.float64 (momentum was lost)."""
    p = Parameter(np.array(0.0), "x")
    q = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    ours = optim.create("momentum", [p], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([q], lr=0.1, momentum=0.9)
    for _ in range(3):
        p.grad = 2 * (p.data - 3)
        q.grad = 2 * (q.detach() - 3)
        ours.step()
        theirs.step()
    assert float(p.data) == pytest.approx(float(q.detach()), rel=1e-15)
    # By hand: b = -6, -10.2, -11.94 and p = 0.6, 1.62, 2.814 (without momentum: 1.464).
    assert float(p.data) == pytest.approx(2.814, rel=1e-12)


def test_radamw_takes_torch_default_weight_decay():
    """torch.optim.RAdam(decoupled_weight_decay=True) defaults to weight_decay=0."""
    assert optim.hyperparameters_of("radamw")["weight_decay"] == 0.0
    assert optim.hyperparameters_of("nadamw")["weight_decay"] == 0.0
    assert optim.hyperparameters_of("adamw")["weight_decay"] == 0.01


def test_register_checks_defaults_against_the_recipe_signature():
    def heavy(lr, momentum):
        return chain(Trace(momentum), ScaleByLearningRate(lr))

    with pytest.raises(ValueError, match=r"defaults name 'momentun'.*did you mean 'momentum'"):
        optim.register("typo-heavy", heavy, defaults={"lr": 0.1, "momentun": 0.9})
    with pytest.raises(ValueError, match=r"the recipe needs 'momentum'"):
        optim.register("short-heavy", heavy, defaults={"lr": 0.1})
    assert "typo-heavy" not in optim.available() and "short-heavy" not in optim.available()


def test_check_completes_and_validates_with_the_horizon():
    spec = optim.resolve("demon-adam")
    full = spec.check({"lr": 0.01}, horizon=300)
    assert full["total_steps"] == 300 and full["betas"] == (0.9, 0.999)
    assert spec.check({"lr": 0.01})["total_steps"] is None  # filled by create
    with pytest.raises(ValueError, match=r"demon-adam: unknown hyperparameter 'lrr'"):
        spec.check({"lrr": 0.01})
    with pytest.raises(ValueError, match=r"demon-adam: lr must be >= 0; received lr=-1"):
        spec.check({"lr": -1}, horizon=3)
    opt = optim.create("demon-adam", params(), horizon=42)
    assert opt.param_groups[0]["total_steps"] == 42
    with pytest.raises(ValueError, match=r"adam: horizon must be an integer >= 1; received 0"):
        optim.create("adam", params(), horizon=0)


def test_lookahead_is_an_ordinary_optimizer():
    """lookahead-<name> is a spec like any other: its named class, its state dict (the
    one version scheme), eval()/train() and the slow weights inside the chain's state."""
    from optimlab.optim.optimizer import STATE_DICT_VERSION, optimizer_class

    a, b = params(), params()
    opt_a = optimizer_class(optim.resolve("lookahead-adam"))(a, lr=0.1)
    opt_b = optim.create("lookahead-adam", b, lr=0.1)
    assert_same_steps(opt_a, a, opt_b, b, 7)
    saved = opt_a.state_dict()
    assert saved["version"] == STATE_DICT_VERSION and saved["optimizer"] == "lookahead-adam"
    assert saved["state"][0]["0"]["count"] == 2  # 7 steps, k = 5: two since the last sync
    opt_a.eval()
    opt_a.train()
    with pytest.raises(ValueError, match=r"state dict version must be"):
        opt_b.load_state_dict({**saved, "version": 1})


def test_lookahead_synchronises_every_k_steps_of_the_group():
    """phi <- phi + alpha (theta - phi); theta <- phi, with phi the parameters at the start."""
    (p,) = params()[:1]
    start = p.data.copy()
    opt = optim.create("lookahead-sgd", [p], lr=0.1, k=2, alpha=0.25)
    theta = start.copy()
    for t in range(2):
        grads([p], t)
        theta = theta - 0.1 * p.grad
        opt.step()
    np.testing.assert_allclose(p.data, start + 0.25 * (theta - start), rtol=1e-14)
