"""Large parameters updated block by block give the same numbers as whole-array updates."""

from __future__ import annotations

import numpy as np
import pytest

import optimlab.optim._blocks as blocks
from optimlab import optim
from optimlab.nn.module import Parameter
from optimlab.optim._blocks import BLOCK, is_elementwise

NAMES = optim.available()
# Element-wise chains whose state is all arrays after the first step (SGD without
# momentum has no buffer and is cheap whole; momentum's buffer appears at step 1).
SURELY_BLOCKED = {
    "adam", "adamw", "momentum", "nesterov", "demon-qhadamw", "lion", "rmsprop", "adagrad",
    "adadelta", "nadam", "radam", "adamax", "qhm", "adabelief", "adopt", "yogi", "ademamix",
    "schedulefree-sgd", "schedulefree-adamw", "lookahead-adam",
}  # fmt: skip
SHAPES = [(300, 500), (7,), (2 * BLOCK + 5,)]  # two large (one with a ragged last block), one small


def run(
    name: str, steps: int = 4, *, skip_small_at: int | None = None, skip_large_at: tuple = ()
) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    hp = {"total_steps": 10} if "total_steps" in optim.hyperparameters_of(name) else {}
    opt = optim.create(name, params, lr=1e-2, **hp)
    for t in range(steps):
        drawn = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        skipped = {i for i, skip in ((1, t == skip_small_at), (0, t in skip_large_at)) if skip}

        def set_grads(drawn=drawn, skipped=skipped) -> float:
            # the gradient of 0.25 |p|^2 + <noise, p>: a closure (SophiaH's Hessian-vector
            # product evaluates it again at a shifted point) sees a real curvature
            for i, (p, g) in enumerate(zip(params, drawn, strict=True)):
                # a skipped parameter's own step count falls behind
                p.grad = None if i in skipped else g + 0.5 * p.data
            return 0.0

        set_grads()
        opt.step(set_grads if opt.needs_closure else None)
    opt.eval()
    return [p.data.copy() for p in params] + [np.asarray(v) for v in _leaves(opt.state_dict())]


def _leaves(tree):
    if isinstance(tree, dict):
        for k in sorted(tree):
            yield from _leaves(tree[k])
    elif isinstance(tree, list | tuple):
        for v in tree:
            yield from _leaves(v)
    elif tree is not None:
        yield tree


@pytest.mark.parametrize("name", NAMES)
def test_blocks_give_the_whole_array_numbers(name, monkeypatch):
    calls = []
    real = blocks.step_by_blocks
    monkeypatch.setattr(
        blocks, "step_by_blocks", lambda *a: (calls.append([a[3][j] for j in a[4]]), real(*a))[1]
    )
    base = name.removeprefix("lookahead-").removeprefix("demon-").removeprefix("cautious-")
    if base.removesuffix("w") == "shampoo":  # every dimension preconditioned: 131077 too large
        with pytest.raises(ValueError, match=r"131077 x 131077 preconditioner"):
            run(name)
        return
    blocked = run(name, skip_small_at=2)
    if base.removesuffix("w") in ("lamb", "muon", "adan"):  # not element-wise
        assert not calls, name
    elif name in SURELY_BLOCKED:
        assert calls, f"{name}: never updated block by block"
    assert all(large == [0, 2] for large in calls)  # the two large parameters
    monkeypatch.setattr(blocks, "BLOCK", 1 << 40)  # never split
    whole = run(name, skip_small_at=2)
    assert len(blocked) == len(whole)
    for a, b in zip(blocked, whole, strict=True):
        np.testing.assert_array_equal(a, b)


def test_element_wise_chains_are_the_expected_ones():
    def chain_of(name):
        p = Parameter(np.zeros(3))
        opt = optim.create(name, [p], **({"total_steps": 5} if "demon" in name else {}))
        return getattr(opt, "_chains", [None])[0] if hasattr(opt, "_chains") else None

    blocked = {n for n in ("adam", "sgd", "momentum", "lion", "rmsprop", "schedulefree-adamw")
               if is_elementwise(chain_of(n))}  # fmt: skip
    assert blocked == {"adam", "sgd", "momentum", "lion", "rmsprop", "schedulefree-adamw"}
    for name in ("lamb", "muon", "adan"):
        assert not is_elementwise(chain_of(name)), name


@pytest.mark.parametrize("name", ["adam", "nadam", "radam", "adamax", "adagrad", "qhadam",
                                  "demon-adamw", "lookahead-nadamw"])  # fmt: skip
def test_blocks_keep_per_parameter_step_counts(name, monkeypatch):
    """A large parameter that skips steps is debiased for its own count, block by block."""
    blocked = run(name, 6, skip_large_at=(1, 3))
    monkeypatch.setattr(blocks, "BLOCK", 1 << 40)  # never split
    whole = run(name, 6, skip_large_at=(1, 3))
    for a, b in zip(blocked, whole, strict=True):
        np.testing.assert_array_equal(a, b)
