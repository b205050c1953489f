"""MARS matches pytorch_optimizer 4.1 step by step, in float64.

One part of the reference does not compute in the parameters' dtype and is patched to
float64 here, so that the comparison checks the algorithm rather than its rounding: the
Newton-Schulz iteration of ``mars_type="shampoo"`` (bfloat16 by default,
``zero_power_via_newton_schulz_5``). Everything else of MARS is in the parameters' dtype.

``EQUATION_ROWS`` (see ``optim_db_mars``) compare with pytorch_optimizer's arithmetic
written around it where optimlab follows the paper: the cautious mask on the whole step
of the Lion and Shampoo forms, and coupled weight decay.
"""

from __future__ import annotations

import functools

import pytest
import pytorch_optimizer.optimizer.mars as po_mars
import torch
from optim_db_mars import EQUATION_ROWS, ROWS
from pytorch_optimizer.optimizer.utils.matrix import zero_power_via_newton_schulz_5
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair

#: A convolution kernel (out, in, kh, kw), a vector and a tall matrix; and a wide kernel.
SHAPES_4D = [(4, 2, 3, 3), (6,), (5, 3)]
SHAPES_4D_WIDE = [(2, 3, 2, 2), (3, 4), ()]

ALL = ROWS + EQUATION_ROWS


@pytest.fixture
def float64_reference(monkeypatch):
    ns64 = functools.partial(zero_power_via_newton_schulz_5, dtype=torch.float64)
    monkeypatch.setattr(po_mars, "zero_power_via_newton_schulz_5", ns64)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference(row, pattern, float64_reference):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("shapes", [SHAPES_4D, SHAPES_4D_WIDE], ids=["tall", "wide"])
@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference_with_a_4d_parameter(row, shapes, float64_reference):
    """A 4-D kernel takes the variance-reduced path; Shampoo's Newton-Schulz acts on its
    ``(out, in * kh * kw)`` view with the factor ``sqrt(max(1, out / in))``."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=shapes)
    assert error <= TOLERANCE, f"{row.id} {shapes}: relative error {error:.3e} after {STEPS} steps"
