"""Every name the registry accepts, through the same properties.

The names come from ``optim.available()``: every base name, its ``w`` and
``demon-`` forms (where it has momentum) and ``lookahead-`` around all of them,
so an optimizer registered later is checked without touching this file.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim import schedules

NAMES = optim.available()
SHAPES = [(4, 3), (5,), (2, 3, 2)]


def required(name: str) -> dict:
    """Hyperparameters a name needs beyond its defaults, and a learning rate for the tests."""
    kwargs = {"lr": 0.01}
    if "demon-" in name:
        kwargs["total_steps"] = 40
    return kwargs


def make_params(dtype=np.float64, seed: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype), f"p{i}") for i, s in enumerate(SHAPES)]


CURVATURE = [np.random.default_rng(7).uniform(0.5, 2.0, s) for s in SHAPES]


def quadratic(params: list[Parameter]) -> float:
    return float(
        sum(
            0.5 * np.sum(c * p.data.astype(np.float64) ** 2)
            for c, p in zip(CURVATURE, params, strict=True)
        )
    )


def set_quadratic_grads(params: list[Parameter]) -> None:
    for c, p in zip(CURVATURE, params, strict=True):
        p.grad = (c * p.data).astype(p.data.dtype)


def step(opt, set_grads) -> None:
    """``set_grads()``, then ``opt.step()``; with ``set_grads`` as the closure for an
    optimizer that evaluates the gradients again (SophiaH), as a training loop passes one."""
    set_grads()
    if opt.needs_closure:
        opt.step(lambda: (set_grads(), 0.0)[1])
    else:
        opt.step()


def run(opt, params: list[Parameter], steps: int) -> None:
    for _ in range(steps):
        step(opt, lambda: set_quadratic_grads(params))


def test_the_table_is_large():
    assert len(NAMES) >= 60
    for name in ("sgd", "momentum", "nesterov", "adam", "adamw", "qhadamw", "demon-qhadamw",
                 "demon-nesterovw", "lookahead-adam", "adamaxw", "nadamw"):  # fmt: skip
        assert name in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_decreases_a_convex_quadratic(name):
    params = make_params()
    before = quadratic(params)
    opt = optim.create(name, params, **required(name))
    run(opt, params, 60)
    opt.eval()  # schedule-free optimizers evaluate at their average
    after = quadratic(params)
    assert np.isfinite(after) and after < before, f"{name}: {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("name", NAMES)
def test_a_constant_schedule_is_the_scalar(name):
    kwargs = required(name)
    a, b = make_params(), make_params()
    opt_a = optim.create(name, a, **kwargs)
    opt_b = optim.create(name, b, **{**kwargs, "lr": schedules.constant(kwargs["lr"])})
    run(opt_a, a, 12)
    run(opt_b, b, 12)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def as_constant_schedules(value):
    """Real numbers (also inside tuples) as constant schedules; anything else unchanged."""
    if isinstance(value, tuple):
        return tuple(as_constant_schedules(v) for v in value)
    if isinstance(value, float):
        return schedules.constant(value)
    return value


@pytest.mark.parametrize("name", NAMES)
def test_every_real_hyperparameter_may_be_a_schedule(name):
    kwargs = required(name)
    values = {**optim.hyperparameters_of(name), **kwargs}
    scheduled = {k: as_constant_schedules(v) for k, v in values.items()}
    assert any(callable(v) for v in scheduled.values())
    a, b = make_params(), make_params()
    opt_a = optim.create(name, a, **values)
    opt_b = optim.create(name, b, **scheduled)
    run(opt_a, a, 12)
    run(opt_b, b, 12)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name", NAMES)
def test_accepts_a_schedule(name):
    kwargs = required(name)
    lr = schedules.warmup(schedules.cosine(kwargs["lr"], total_steps=20), warmup_steps=5)
    params = make_params()
    opt = optim.create(name, params, **{**kwargs, "lr": lr})
    start = [p.data.copy() for p in params]
    run(opt, params, 20)
    assert any(not np.array_equal(s, p.data) for s, p in zip(start, params, strict=True))
    assert all(np.all(np.isfinite(p.data)) for p in params)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_in_lockstep(name):
    kwargs = required(name)
    a = make_params()
    opt_a = optim.create(name, a, **kwargs)
    run(opt_a, a, 7)  # 7: lookahead (k=5) has synchronised once and is mid-cycle
    saved = opt_a.state_dict()
    snapshot = copy.deepcopy(saved)
    b = [Parameter(p.data.copy(), p.name) for p in a]
    opt_b = optim.create(name, b, **kwargs)
    opt_b.load_state_dict(saved)
    for _ in range(9):
        step(opt_a, lambda: set_quadratic_grads(a))
        step(opt_b, lambda: set_quadratic_grads(b))
        for p, q in zip(a, b, strict=True):
            np.testing.assert_array_equal(p.data, q.data)
    # The state dict taken earlier is a copy: the steps since did not write into it.
    assert_same_state(saved, snapshot)


def assert_same_state(a, b) -> None:
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_state(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same_state(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_in_place(name):
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    opt = optim.create(name, params, **required(name))
    run(opt, params, 6)
    opt.eval()
    opt.train()
    for p, original in zip(params, arrays, strict=True):
        assert p.data.dtype == np.float32
        assert p.data is original  # updated in place, never reallocated
    state = opt.state_dict()
    dtypes = set()

    def collect(s):
        if isinstance(s, np.ndarray) and s.ndim > 0:
            dtypes.add(s.dtype)
        elif isinstance(s, dict):
            for v in s.values():
                collect(v)
        elif isinstance(s, list):
            for v in s:
                collect(v)

    collect(state)
    assert dtypes <= {np.dtype(np.float32)}, f"{name}: state dtypes {dtypes}"


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_gradient_are_skipped(name):
    params = make_params()
    frozen = params[1].data.copy()
    opt = optim.create(name, params, **required(name))

    def grads() -> None:
        set_quadratic_grads(params)
        params[1].grad = None

    for _ in range(6):
        step(opt, grads)
    np.testing.assert_array_equal(params[1].data, frozen)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_bad_hyperparameters(name):
    kwargs = required(name)
    with pytest.raises(ValueError, match=rf"{name}: lr must be >= 0; received lr=-0.5"):
        optim.create(name, make_params(), **{**kwargs, "lr": -0.5})
    with pytest.raises(ValueError, match=rf"{name}: unknown hyperparameter 'bogus'"):
        optim.create(name, make_params(), **kwargs, bogus=1.0)
    spec = optim.resolve(name)
    if "betas" in spec.defaults:
        betas = (1.0, *spec.defaults["betas"][1:])
        with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\); received beta1=1.0"):
            optim.create(name, make_params(), **kwargs, betas=betas)
    if isinstance(spec.defaults.get("eps"), tuple):  # Adafactor's (eps1, eps2)
        with pytest.raises(ValueError, match=r"eps2 must be >= 0; received eps2=-1.0"):
            optim.create(name, make_params(), **kwargs, eps=(None, -1.0))
    elif "eps" in spec.defaults:
        with pytest.raises(ValueError, match=r"eps must be > 0; received eps=0.0"):
            optim.create(name, make_params(), **kwargs, eps=0.0)


# -- parameters that skip steps, start late, are 0-d, or are not real floats -------------
def _own_clock(name: str) -> bool:
    """Demon's beta and Lookahead's synchronisation run on the group's clock by design."""
    return not name.startswith(("demon-", "lookahead-"))


OWN_CLOCK = [n for n in NAMES if _own_clock(n)]


def _quadratic_grad(index: int, p: Parameter) -> None:
    p.grad = (CURVATURE[index] * p.data).astype(p.data.dtype)


@pytest.mark.parametrize("name", OWN_CLOCK)
def test_a_parameter_that_skips_steps_or_starts_late_sees_its_own_step_count(name):
    """Parameter 2 skips every third step, parameter 1 starts at step 21. Where the
    optimizer counts steps per parameter (``step_counts="parameter"``, as torch.optim),
    each follows exactly the path it follows alone, fed the same gradients; where it
    counts them per group (as its reference, pytorch_optimizer), the late one does not."""
    kwargs = required(name)
    if "hessian_distribution" in optim.hyperparameters_of(name):
        kwargs["p"] = 10.0  # SophiaH: clip at p=0.01 makes every step lr * sign(m); unclipped,
        # the Hessian estimate (random vectors drawn for the group's parameters) shows
    together = make_params()
    alone = [[Parameter(p.data.copy(), p.name)] for p in together]
    opt = optim.create(name, together, **kwargs)
    solo = [optim.create(name, ps, **kwargs) for ps in alone]
    for t in range(45):
        active = [0] + ([1] if t >= 20 else []) + ([2] if t % 3 != 2 else [])

        def grads(active=active) -> None:
            for i, p in enumerate(together):
                if i in active:
                    _quadratic_grad(i, p)
                else:
                    p.grad = None

        step(opt, grads)
        for i in active:
            step(solo[i], lambda i=i: _quadratic_grad(i, alone[i][0]))
    if optim.resolve(name).step_counts == "parameter":
        for p, (q,) in zip(together, alone, strict=True):
            np.testing.assert_array_equal(p.data, q.data, err_msg=f"{name}: {p.name}")
    else:
        assert not np.array_equal(together[1].data, alone[1][0].data), (
            f"{name}: declared step_counts='group', yet a late parameter follows its own count"
        )


@pytest.mark.parametrize("name", NAMES)
def test_a_0d_parameter_with_scalar_gradients_moves_as_its_1_element_twin(name):
    """``p.grad = 2 * (p.data - 3)`` on a 0-d parameter is a NumPy scalar: it is stored
    as a 0-d array, and every buffer stays an array (momentum is not lost)."""
    kwargs = required(name)
    scalar, vector = Parameter(np.array(1.5), "s"), Parameter(np.array([1.5]), "v")
    opt_s, opt_v = optim.create(name, [scalar], **kwargs), optim.create(name, [vector], **kwargs)
    for _ in range(25):

        def scalar_grad() -> None:
            scalar.grad = 2 * (scalar.data - 3)  # np.float64, not an array
            assert isinstance(scalar.grad, np.ndarray) and scalar.grad.shape == ()

        step(opt_s, scalar_grad)
        step(opt_v, lambda: setattr(vector, "grad", 2 * (vector.data - 3)))
    opt_s.eval()
    opt_v.eval()
    assert scalar.data.shape == ()
    np.testing.assert_array_equal(scalar.data.reshape(1), vector.data)
    assert scalar.data != 1.5


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("name", NAMES)
def test_complex_integer_and_boolean_parameters_are_refused(name, dtype):
    params = [*make_params(), Parameter(np.ones((2, 2), dtype=dtype), "odd")]
    hint = "complex parameters are not supported" if dtype in (np.complex128, np.complex64) else (
        "optimizers update real floating-point parameters"
    )  # fmt: skip
    with pytest.raises(TypeError, match=rf"parameter 'odd' has dtype {np.dtype(dtype)}; {hint}"):
        optim.create(name, params, **required(name))


def _writes_params(transform) -> bool:
    """Whether ``transform`` or one it holds says ``writes_params = True``."""
    if getattr(transform, "writes_params", False) is True:
        return True
    held = getattr(transform, "transforms", ())
    held = list(held.values() if isinstance(held, dict) else held)
    if hasattr(transform, "inner"):
        held.append(transform.inner)
    return any(_writes_params(t) for t in held)


@pytest.mark.parametrize("name", NAMES)
def test_transforms_never_write_into_their_inputs(name):
    """A chain reads the gradients and the parameters it receives and writes its own
    buffers, except where a transform says ``writes_params`` (decoupled decay)."""
    params = make_params()
    opt = optim.create(name, params, **{**required(name), **_decaying(name)})
    run(opt, params, 3)  # past first-step special cases (ADOPT), buffers made
    chain, state = opt._current(0), opt._states[0]
    rng = np.random.default_rng(5)
    for _ in range(opt.hyperparameters.get("k", 1)):  # a Lookahead sync step among them
        grads = [rng.standard_normal(s) for s in SHAPES]
        data = [p.data.copy() for p in params]
        saved_grads, saved_data = [g.copy() for g in grads], [d.copy() for d in data]
        chain.update(grads, state, data)
        for g, s in zip(grads, saved_grads, strict=True):
            np.testing.assert_array_equal(g, s)
        if not _writes_params(chain):
            for d, s in zip(data, saved_data, strict=True):
                np.testing.assert_array_equal(d, s)


def _decaying(name: str) -> dict:
    """Weight decay on, where the name takes it, so that its transform runs too."""
    return {"weight_decay": 0.1} if "weight_decay" in optim.hyperparameters_of(name) else {}
