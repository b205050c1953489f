"""Every row of the conformance table matches its reference, step by step, in float64."""

from __future__ import annotations

import pytest
from optim_db import ROWS
from reference_harness import STEPS, TOLERANCE, run_pair


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row):
    error = run_pair(row.name, row.kwargs, row.reference, steps=STEPS)
    assert error <= TOLERANCE, f"{row.id}: relative error {error:.3e} after {STEPS} steps"
