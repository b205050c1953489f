"""Every row of the conformance table matches its reference, step by step, in float64."""

from __future__ import annotations

import pytest
from optim_db import ROWS
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, pattern):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_on_a_0d_parameter(row):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"
