"""Prodigy and D-Adaptation Adam: their names, and what the reference rows do not show."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.registry import with_decoupled_weight_decay, with_demon

NAMES = ("prodigy", "dadapt-adam")


def test_a_hyphen_in_a_base_name_parses_with_every_prefix():
    """``dadapt-`` is not a prefix: the grammar strips lookahead-, cautious-, demon- only."""
    assert {"dadapt-adam", "dadapt-adamw", "demon-dadapt-adamw", "cautious-dadapt-adam",
            "lookahead-demon-dadapt-adam"} <= set(optim.available())  # fmt: skip
    spec = optim.resolve("demon-dadapt-adamw")
    expected = with_demon(with_decoupled_weight_decay(optim.OPTIMIZERS.get("dadapt-adam")))
    assert spec.name == expected.name == "demon-dadapt-adamw"
    assert spec.defaults == expected.defaults and "total_steps" in spec.defaults
    assert optim.resolve("lookahead-cautious-demon-dadapt-adamw").name.endswith("dadapt-adamw")
    with pytest.raises(ValueError, match="unknown optimizer 'dadapt-'"):
        optim.resolve("dadapt-")
    with pytest.raises(ValueError, match="unknown optimizer 'adam-dadapt'"):
        optim.resolve("adam-dadapt")


def params(seed: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s), f"p{i}") for i, s in enumerate([(4, 3), (5,)])]


@pytest.mark.parametrize("name", NAMES)
def test_each_parameter_group_has_its_own_estimate(name):
    """pytorch_optimizer shares one d between groups; here a group is an optimizer of its
    own: two groups move exactly as two optimizers, one per group."""
    together, a, b = params(), params(), params()
    opt = optim.create(name, [{"params": together[:1]}, {"params": together[1:], "lr": 0.5}])
    alone = [optim.create(name, a[:1]), optim.create(name, b[1:], lr=0.5)]
    for _ in range(30):
        for ps in (together, a, b):
            for p in ps:
                p.grad = p.data + 0.1
        opt.step()
        for o in alone:
            o.step()
    np.testing.assert_array_equal(together[0].data, a[0].data)
    np.testing.assert_array_equal(together[1].data, b[1].data)
    ds = [s["0"]["d"] for s in opt.state_dict()["state"]]
    assert ds[0] != ds[1]


@pytest.mark.parametrize("name", NAMES)
def test_no_step_while_the_sum_of_the_s_is_zero(name):
    """lr = 0 (without Prodigy's safeguard): s stays 0, so nothing moves, not even the
    decoupled decay, and d stays d0, as in the reference (its early return)."""
    ps = params()
    start = [p.data.copy() for p in ps]
    opt = optim.create(name, ps, lr=0.0, weight_decay=0.1, weight_decouple=True, fixed_decay=True)
    for _ in range(5):
        for p in ps:
            p.grad = p.data + 1.0
        opt.step()
    for p, s in zip(ps, start, strict=True):
        np.testing.assert_array_equal(p.data, s)
    assert opt.state_dict()["state"][0]["0"]["d"] == 1e-6


def test_prodigy_safeguard_keeps_the_estimate_moving_at_lr_zero():
    """safeguard_warmup: s takes d in place of the step size, so the sum is not zero and
    the decay (fixed) applies, while the step, d lr m / ..., is zero."""
    (p,) = params()[:1]
    start = p.data.copy()
    opt = optim.create("prodigy", [p], lr=0.0, safeguard_warmup=True, weight_decay=0.1,
                       fixed_decay=True)  # fmt: skip
    p.grad = p.data + 1.0
    opt.step()
    np.testing.assert_allclose(p.data, 0.9 * start, rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_decoupled_decay_is_not_seen_by_the_cautious_mask(name):
    """The decay multiplies the parameters in place; the mask sees only the step:
    cautious-X with decay = X's decay, then X's step masked (one step, so both start
    from the same state)."""
    kwargs = {"weight_decay": 0.2, "weight_decouple": True}
    a, b = params(), params()
    grads = [np.random.default_rng(3).standard_normal(p.shape) for p in a]
    masked = optim.create("cautious-" + name, a, **kwargs)
    plain = optim.create(name, b, **kwargs)
    for ps in (a, b):
        for p, g in zip(ps, grads, strict=True):
            p.grad = g.copy()
    before = [p.data.copy() for p in b]
    masked.step()
    plain.step()
    step_size = 1e-6  # d0 * lr on the first step
    for p, q, g, x in zip(a, b, grads, before, strict=True):
        decayed = x * (1.0 - 0.2 * step_size)
        step = q.data - decayed
        keep = step * g < 0
        expected = decayed + step * keep * (keep.size / (keep.sum() + 1))
        np.testing.assert_allclose(p.data, expected, rtol=1e-14, atol=1e-18)
    assert any(not np.array_equal(p.data, q.data) for p, q in zip(a, b, strict=True))
