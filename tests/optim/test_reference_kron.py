"""PSGD Kron matches pytorch_optimizer 4.1's ``Kron`` step by step, in float64.

The reference runs with ``precondition_dtype=None`` (the parameters' dtype; its default
keeps the factors in float32), and its triangular solve ``solve_triangular_right``,
which casts to float32 whatever the dtype, is patched to solve in float64. Its random
numbers are optimlab's: ``numpy.random.random()`` (the balancing draw) and
``torch.randn_like`` (the probes) are patched to return, in the order the reference
asks for them, the numbers of ``numpy.random.default_rng(seed)``, the stream of
optimlab's Generator; after each run both Generators must stand at the same state (the
same number of draws). The default update-probability schedule, float32 in the
reference, gives the same decisions in float64 (``test_kron_schedule``).
"""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_optimizer.optimizer.psgd as po_psgd
import torch
from optim_db_kron import DRAWS, ROWS
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair

#: A convolution kernel (out, in, kh, kw) beside a matrix and a vector.
CONV_SHAPES = [(4, 3, 3, 3), (5, 4), (7,)]


def solve_triangular_right_float64(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``X @ inv(A)``, A upper triangular, in the inputs' dtype (the reference: float32)."""
    rows = x.reshape(-1, x.size(-1))
    return torch.linalg.solve_triangular(a, rows, upper=True, left=False).reshape_as(x)


@pytest.fixture
def reference_draws(monkeypatch):
    monkeypatch.setattr(po_psgd, "solve_triangular_right", solve_triangular_right_float64)
    monkeypatch.setattr(po_psgd.np.random, "random", DRAWS.random)
    monkeypatch.setattr(po_psgd.torch, "randn_like", DRAWS.randn_like)


def bit_state(state):
    """The Generator state kept in an optimlab state (the one dict with an ``"rng"`` key)."""
    if isinstance(state, dict):
        if "rng" in state:
            return state["rng"]
        for value in state.values():
            found = bit_state(value)
            if found is not None:
                return found
    return None


def same_draws(opt, ref) -> None:
    assert bit_state(opt._states[0]) == DRAWS.rng.bit_generator.state, "a different number of draws"


def check(row, shapes, pattern="every-step") -> None:
    error = run_pair(row.name, row.kwargs, row.reference, shapes=shapes,
                     has_grad=PATTERNS[pattern], before_compare=same_draws)  # fmt: skip
    where = f"{row.id} {shapes} {pattern}"
    assert error <= TOLERANCE, f"{where}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, pattern, reference_draws):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    check(row, [(5, 4), (7,), (2, 3, 4)], pattern)


@pytest.mark.parametrize("pattern", ["every-step", "skips"])
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_with_a_conv_kernel(row, pattern, reference_draws):
    """A 4-D parameter gets one factor per dimension, as in the reference."""
    check(row, CONV_SHAPES, pattern)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_on_a_0d_parameter(row, reference_draws):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    check(row, SCALAR_SHAPES)


def test_the_draws_are_used(reference_draws):
    """Another seed on one side only: the runs part (the probes matter)."""
    from optim_db_kron import ref

    error = run_pair("kron", {"lr": 0.02, "seed": 1}, ref(lr=0.02, seed=2), steps=20)
    assert error > 1e-6
    assert np.isfinite(error)


def test_the_unpatched_float32_reference_is_close(monkeypatch):
    """pytorch_optimizer's defaults (float32 factors and solves) stay within ~1e-6 here."""
    import pytorch_optimizer as po

    monkeypatch.setattr(po_psgd.np.random, "random", DRAWS.random)
    monkeypatch.setattr(po_psgd.torch, "randn_like", DRAWS.randn_like)

    def make(params):
        DRAWS.rng = np.random.default_rng(0)
        return po.Kron(params, lr=0.02), None

    error = run_pair("kron", {"lr": 0.02}, make)
    assert 1e-12 < error < 1e-5
