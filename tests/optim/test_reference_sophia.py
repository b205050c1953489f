"""SophiaH against pytorch_optimizer.SophiaH (4.1), step by step in float64.

The reference differentiates its backward graph a second time for the Hessian-vector
products (``loss.backward(create_graph=True)``); optimlab takes central differences of
two more gradients through the step's closure. On a quadratic loss the two agree up to
rounding, so the rows use one: per parameter ``0.5 sum(c p^2) + sum(n_t p)`` with a
fixed curvature ``c`` and fresh noise ``n_t`` each step (gradient ``c p + n_t``,
Hessian ``diag(c)``). The random vectors: the reference's ``torch.randn_like`` /
``torch.randint_like`` are replaced by draws from the same NumPy Generator, in the
same order, as optimlab's (PCG64 seeded with ``seed``). A finite-difference check on a
real network against torch's exact Hessian-vector product is in ``test_sophia.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_optimizer as po
import torch
from optim_db import lookahead
from reference_harness import (
    PATTERNS,
    SHAPES,
    STEPS,
    TOLERANCE,
    demon_hook,
    relative_error,
)

from optimlab import optim
from optimlab.nn import Parameter

# SophiaH's own Hessian estimate needs the reference's loss.backward(create_graph=True),
# which torch warns about (a reference cycle until the .grad fields are reset: each run
# makes fresh tensors).
pytestmark = pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")

T = 150


def same_draws(monkeypatch, seed: int) -> None:
    """The reference's random vectors from ``default_rng(seed)``, as optimlab draws them."""
    rng = np.random.default_rng(seed)

    def randn_like(p, **kwargs):
        return torch.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype)

    def randint_like(p, low, high, **kwargs):
        return torch.tensor(rng.integers(low, high, tuple(p.shape)), dtype=p.dtype)

    monkeypatch.setattr(torch, "randn_like", randn_like)
    monkeypatch.setattr(torch, "randint_like", randint_like)


#: ``sophiaw`` decays the weights before the step as every ``<name>w`` does; its
#: reference is SophiaH's own decoupled decay (``p *= 1 - lr wd`` before the momentum,
#: the gradient and the Hessian-vector products taken at the undecayed point): the
#: same steps, since optimlab takes the products at the point of the step's gradient.


def sophia_ref(**kwargs):
    return lambda params: (po.SophiaH(params, **kwargs), None)


ROWS = [
    ("sophia", {}, sophia_ref()),
    ("sophia", {"lr": 0.01, "betas": (0.9, 0.95), "p": 0.05, "update_period": 3},
     sophia_ref(lr=0.01, betas=(0.9, 0.95), p=0.05, update_period=3)),
    ("sophia", {"lr": 0.02, "num_samples": 3, "hessian_distribution": "rademacher",
                "update_period": 1, "eps": 1e-4},
     sophia_ref(lr=0.02, num_samples=3, hessian_distribution="rademacher", update_period=1,
                eps=1e-4)),
    ("sophia", {"lr": 0.02, "weight_decay": 0.1, "update_period": 4},
     sophia_ref(lr=0.02, weight_decay=0.1, update_period=4)),
    ("sophia", {"lr": 0.02, "weight_decay": 0.1, "weight_decouple": False, "p": 1.0},
     sophia_ref(lr=0.02, weight_decay=0.1, weight_decouple=False, p=1.0)),
    ("sophia", {"lr": 0.02, "weight_decay": 0.05, "fixed_decay": True},
     sophia_ref(lr=0.02, weight_decay=0.05, fixed_decay=True)),
    ("sophia", {"lr": 0.02, "seed": 7, "update_period": 2}, sophia_ref(lr=0.02, update_period=2)),
    ("sophiaw", {"lr": 0.02, "weight_decay": 0.2},
     sophia_ref(lr=0.02, weight_decay=0.2)),
    ("demon-sophia", {"lr": 0.02, "total_steps": T},
     lambda params: (po.SophiaH(params, lr=0.02), demon_hook(0.96, T, "betas"))),
    ("lookahead-sophia", {"lr": 0.02, "k": 3}, lookahead(sophia_ref(lr=0.02), k=3)),
]  # fmt: skip


def run_sophia_pair(name, kwargs, reference, *, has_grad, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in shapes]
    curvature = [rng.uniform(0.2, 3.0, s) for s in shapes]
    ours = [Parameter(a.copy(), name=f"p{i}") for i, a in enumerate(init)]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.create(name, ours, **kwargs)
    ref, hook = reference(theirs)
    noise_rng = np.random.default_rng(1)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for t in range(steps):
            noise = [noise_rng.standard_normal(s) for s in shapes]
            live = [i for i in range(len(shapes)) if has_grad(t, i)]

            def closure(noise=noise, live=live):
                for i, p in enumerate(ours):
                    p.grad = curvature[i] * p.data + noise[i] if i in live else None
                return sum(0.5 * np.sum(curvature[i] * ours[i].data ** 2) for i in live)

            for q in theirs:
                q.grad = None
            with torch.enable_grad():
                loss = sum(
                    0.5 * (torch.tensor(curvature[i]) * theirs[i] ** 2).sum()
                    + (torch.tensor(noise[i]) * theirs[i]).sum()
                    for i in live
                )
                loss.backward(create_graph=True)
            if hook is not None:
                hook(ref, t)
            ref.step()
            opt.step(closure)
    finally:
        torch.set_default_dtype(previous)
    return relative_error([p.data for p in ours], [q.detach().numpy() for q in theirs])


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_matches_reference(row, pattern, monkeypatch):
    name, kwargs, reference = row
    same_draws(monkeypatch, kwargs.get("seed", 0))
    error = run_sophia_pair(name, kwargs, reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{name} {kwargs} {pattern}: relative error {error:.3e}"


def test_matches_reference_with_a_conv_kernel(monkeypatch):
    """A 4-d parameter (a conv kernel) is element-wise like any other."""
    same_draws(monkeypatch, 0)
    error = run_sophia_pair(
        "sophia", {"lr": 0.02, "update_period": 2}, sophia_ref(lr=0.02, update_period=2),
        has_grad=PATTERNS["every-step"], shapes=[(4, 3, 3, 3), (5, 4), (7,)],
    )  # fmt: skip
    assert error <= TOLERANCE
