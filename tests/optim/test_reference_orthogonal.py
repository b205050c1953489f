"""SCION, NorMuon and AdaMuon match pytorch_optimizer 4.1 step by step, in float64.

The reference's Newton-Schulz iteration (``zero_power_via_newton_schulz_5``)
computes in bfloat16 by default; it is patched to float64 here, in every module
that calls it (SCION's spectral norms, NorMuon, AdaMuon, and the batched path
of their ``MuonBase``), so that the comparison checks the algorithm rather than
bfloat16 rounding. Nothing else of these references leaves the parameters'
dtype. Every row runs on the harness's shapes (matrix, vector, 3-D) with each
gradient pattern and on shapes with a convolution kernel (``CONV_SHAPES``), and
on a 0-d parameter.
"""

from __future__ import annotations

import functools

import pytest
import pytorch_optimizer.optimizer.muon.adamuon as po_adamuon
import pytorch_optimizer.optimizer.muon.base as po_muon_base
import pytorch_optimizer.optimizer.muon.normuon as po_normuon
import pytorch_optimizer.optimizer.scion as po_scion
import torch
from optim_db_orthogonal import CONV_SHAPES, ROWS, SIGN_STABILIZED
from pytorch_optimizer.optimizer.utils.matrix import zero_power_via_newton_schulz_5
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair

NS64 = functools.partial(zero_power_via_newton_schulz_5, dtype=torch.float64)
MODULES = (po_scion, po_normuon, po_adamuon, po_muon_base)


@pytest.fixture
def float64_reference(monkeypatch):
    for module in MODULES:
        monkeypatch.setattr(module, "zero_power_via_newton_schulz_5", NS64)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, pattern, float64_reference):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_with_a_convolution_kernel(row, pattern, float64_reference):
    """A (4, 3, 3, 3) kernel beside a matrix and a vector (the matrix skips, or the vector
    starts late, by ``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=CONV_SHAPES,
                     has_grad=PATTERNS[pattern])  # fmt: skip
    assert error <= TOLERANCE, f"{row.id} conv {pattern}: relative error {error:.3e}"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"


@pytest.fixture
def sign_before_newton_schulz(monkeypatch):
    """The reference's AdaMuon with O_t = NS(sign(m_t)): the paper's later versions."""

    def signed(g, *args, **kwargs):
        return NS64(torch.sign(g), *args, **kwargs)

    monkeypatch.setattr(po_adamuon, "zero_power_via_newton_schulz_5", signed)


@pytest.mark.parametrize("shapes", [None, CONV_SHAPES], ids=["harness", "conv"])
@pytest.mark.parametrize("row", SIGN_STABILIZED, ids=[r.id for r in SIGN_STABILIZED])
def test_sign_stabilized_adamuon_is_the_reference_on_signed_momentum(
    row, shapes, sign_before_newton_schulz
):
    kwargs = {} if shapes is None else {"shapes": shapes}
    error = run_pair(row.name, row.kwargs, row.reference, **kwargs)
    assert error <= TOLERANCE, f"{row.id}: relative error {error:.3e}"
