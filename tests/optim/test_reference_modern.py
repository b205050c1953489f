"""The post-Adam optimizers match pytorch_optimizer 4.1 step by step, in float64.

Two parts of the reference do not compute in the parameters' dtype and are
patched to float64 here, so that the comparison checks the algorithm rather
than their rounding (``test_modern_precision`` measures the unpatched gap):
Muon's Newton-Schulz iteration (bfloat16 by default) and the global gradient
norm of Adan (``max_grad_norm``) and Lamb (``pre_norm``) (float32).
"""

from __future__ import annotations

import functools

import pytest
import pytorch_optimizer.optimizer.adan as po_adan
import pytorch_optimizer.optimizer.lamb as po_lamb
import pytorch_optimizer.optimizer.muon.base as po_muon_base
import torch
from optim_db_modern import ROWS, SCHEDULE_FREE
from pytorch_optimizer.optimizer.utils.matrix import zero_power_via_newton_schulz_5
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair


def squared_global_norm_float64(param_groups, device=None, *, weight_adaptive=False):
    """``get_global_gradient_norm`` without its cast to float32."""
    norms = [
        torch.linalg.vector_norm(p.grad)
        for group in param_groups
        for p in group["params"]
        if p.grad is not None
    ]
    return torch.stack(norms).square().sum().reshape(1)


@pytest.fixture
def float64_reference(monkeypatch):
    ns64 = functools.partial(zero_power_via_newton_schulz_5, dtype=torch.float64)
    monkeypatch.setattr(po_muon_base, "zero_power_via_newton_schulz_5", ns64)
    monkeypatch.setattr(po_adan, "get_global_gradient_norm", squared_global_norm_float64)
    monkeypatch.setattr(po_lamb, "get_global_gradient_norm", squared_global_norm_float64)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, pattern, float64_reference):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


#: pytorch_optimizer's Adan clips a 0-d gradient in place by a (1,)-shaped factor and
#: fails ("output with shape [] doesn't match the broadcast shape [1]"); those rows are
#: covered on 0-d parameters by test_conformance's 1-element twin instead.
ROWS_0D = [r for r in ROWS if not (r.name.startswith("adan") and r.kwargs.get("max_grad_norm"))]


@pytest.mark.parametrize("row", ROWS_0D, ids=[r.id for r in ROWS_0D])
def test_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"


def evaluate(opt, ref) -> None:
    opt.eval()
    ref.eval()


def evaluate_twice_then_train(opt, ref) -> None:
    opt.eval()
    opt.eval()  # a second eval() is a no-op
    ref.eval()
    opt.train()
    opt.train()
    ref.train()


@pytest.mark.parametrize("row", SCHEDULE_FREE, ids=[r.id for r in SCHEDULE_FREE])
@pytest.mark.parametrize("switch", [evaluate, evaluate_twice_then_train], ids=["x", "y-again"])
def test_schedule_free_modes_match_reference(row, switch):
    """After 200 steps, eval() gives the reference's x and train() restores its y."""
    error = run_pair(row.name, row.kwargs, row.reference, steps=STEPS, before_compare=switch)
    assert error <= TOLERANCE, f"{row.id} {switch.__name__}: relative error {error:.3e}"
